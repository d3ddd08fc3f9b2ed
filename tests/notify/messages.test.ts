import { describe, expect, it } from "vitest";
import { oneSignalConfig } from "@/server/notify/config";
import { clip, formatWait } from "@/server/notify/messages";
import {
  escalationNotification,
  newMessageNotification,
  newRequestNotification,
  ONESIGNAL_ENV_VARS,
  oneSignalConfigFromEnv,
} from "@/server/notify/notifier";

const APP_ID = "0f6c1d3e-8a2b-4c5d-9e7f-1a2b3c4d5e6f";
const player = {
  requestId: "6d1f0a3b-2c4e-4f5a-8b9c-0d1e2f3a4b5c",
  playerId: 29,
  playerName: "Ravi Kumar",
  appUrl: "https://club.example/",
};

describe("push messages", () => {
  it("new chat request → everyone accepting chats, opening that request", () => {
    const m = newRequestNotification({ ...player, preview: "  Can I\n cash out?  ", staffExternalIds: ["a", "b"] });
    expect(m).toMatchObject({
      kind: "new-request",
      externalIds: ["a", "b"],
      heading: "New chat: Ravi Kumar (#29)",
      contents: "Can I cash out?",
      webUrl: `https://club.example/staff?request=${player.requestId}`,
      topic: `chat-${player.requestId}`,
      dedupeKey: `new-request:${player.requestId}`,
    });
  });

  it("trims a long preview to 120 characters with an ellipsis, never splitting an emoji", () => {
    const m = newRequestNotification({ ...player, preview: `${"x".repeat(118)}🎰🎰🎰`, staffExternalIds: ["a"] });
    expect(Array.from(m.contents)).toHaveLength(120);
    expect(m.contents.endsWith("x🎰…")).toBe(true);
    expect(newRequestNotification({ ...player, preview: "   ", staffExternalIds: ["a"] }).contents).toBe(
      "Sent a message",
    );
  });

  it("new message → only the assigned staff member, once per message id", () => {
    const m = newMessageNotification({ ...player, preview: "Hello?", staffExternalId: "asha", messageId: "m-1" });
    expect(m).toMatchObject({
      kind: "new-message",
      externalIds: ["asha"],
      heading: "Ravi Kumar (#29)",
      contents: "Hello?",
      dedupeKey: "message:m-1",
    });
  });

  it("escalation → 'Still waiting' with how long", () => {
    const m = escalationNotification({ ...player, waitingSeconds: 185, staffExternalIds: ["a"], preview: "Hi" });
    expect(m).toMatchObject({
      kind: "escalation",
      heading: "Still waiting: Ravi Kumar (#29)",
      contents: "Waiting 3 min for a reply · Hi",
      dedupeKey: `escalation:${player.requestId}`,
    });
  });

  it("escapes the request id in the link and formats waits", () => {
    expect(newMessageNotification({ ...player, requestId: "a b&c", preview: "x", staffExternalId: "s" }).webUrl).toBe(
      "https://club.example/staff?request=a%20b%26c",
    );
    expect([0, 59, 60, 3599, 3600, 3900, Number.NaN].map(formatWait)).toEqual([
      "0 s",
      "59 s",
      "1 min",
      "59 min",
      "1 h",
      "1 h 5 min",
      "0 s",
    ]);
    expect(clip("short")).toBe("short");
  });
});

describe("OneSignal settings from env", () => {
  it("this process's own are read once: every render and response asks for them", () => {
    const first = oneSignalConfig();
    expect(first).toEqual(oneSignalConfigFromEnv(process.env));
    expect(oneSignalConfig()).toBe(first);
  });

  it("enabled with both, defaults for the rest; the app id falls back to the public one", () => {
    expect(oneSignalConfigFromEnv({ NEXT_PUBLIC_ONESIGNAL_APP_ID: APP_ID, ONESIGNAL_REST_API_KEY: "k" })).toEqual({
      enabled: true,
      appId: APP_ID,
      apiKey: "k",
      baseUrl: "https://api.onesignal.com",
      timeoutMs: 5000,
      showPlayerDetails: false,
    });
    const other = "11111111-2222-4333-8444-555555555555";
    const both = oneSignalConfigFromEnv({
      ONESIGNAL_APP_ID: other,
      NEXT_PUBLIC_ONESIGNAL_APP_ID: APP_ID,
      ONESIGNAL_REST_API_KEY: "k",
      ONESIGNAL_API_BASE_URL: "http://127.0.0.1:9999/",
      ONESIGNAL_TIMEOUT_MS: "250",
    });
    expect(both).toMatchObject({ appId: other, baseUrl: "http://127.0.0.1:9999", timeoutMs: 250 });
  });

  it("disabled, saying what is missing; blank counts as unset", () => {
    expect(oneSignalConfigFromEnv({ ONESIGNAL_APP_ID: APP_ID, ONESIGNAL_REST_API_KEY: " " })).toMatchObject({
      enabled: false,
      reason: "ONESIGNAL_REST_API_KEY is not set",
    });
    expect(oneSignalConfigFromEnv({ ONESIGNAL_REST_API_KEY: "k" })).toMatchObject({
      enabled: false,
      reason: "ONESIGNAL_APP_ID (or NEXT_PUBLIC_ONESIGNAL_APP_ID) is not set",
    });
    expect(oneSignalConfigFromEnv({})).toMatchObject({ enabled: false, reason: expect.stringMatching(/are not set$/) });
  });

  it("a malformed value throws an error naming the variable", () => {
    expect(() => oneSignalConfigFromEnv({ ONESIGNAL_TIMEOUT_MS: "soon" })).toThrow(/ONESIGNAL_TIMEOUT_MS/);
    expect(() => oneSignalConfigFromEnv({ ONESIGNAL_TIMEOUT_MS: "10" })).toThrow(
      /ONESIGNAL_TIMEOUT_MS: must be at least/,
    );
    expect(() => oneSignalConfigFromEnv({ ONESIGNAL_API_BASE_URL: "api.onesignal.com" })).toThrow(
      /ONESIGNAL_API_BASE_URL/,
    );
    expect(() => oneSignalConfigFromEnv({ NEXT_PUBLIC_ONESIGNAL_APP_ID: "my-app" })).toThrow(
      /NEXT_PUBLIC_ONESIGNAL_APP_ID: must be a UUID/,
    );
  });

  it("documents every variable it reads", () => {
    expect(ONESIGNAL_ENV_VARS.map((v) => v.name)).toEqual([
      "ONESIGNAL_APP_ID",
      "NEXT_PUBLIC_ONESIGNAL_APP_ID",
      "ONESIGNAL_REST_API_KEY",
      "ONESIGNAL_API_BASE_URL",
      "ONESIGNAL_TIMEOUT_MS",
      "PUSH_SHOW_PLAYER_DETAILS",
    ]);
  });
});
