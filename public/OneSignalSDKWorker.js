// OneSignal web push service worker: push reaches staff even when no Floorline tab is open.
importScripts("https://cdn.onesignal.com/sdks/web/v16/OneSignalSDK.sw.js");
