"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { EVENTS, STAFF_CHANNEL } from "@/protocol/channels";
import type { Queue } from "@/protocol/events";
import { decodeEvent, type MessageEvent, type RequestEvent } from "@/protocol/events";
import { useChannel, useEvent } from "../../../_realtime/provider";
import { useTRPC } from "../../../_trpc/client";
import { usePageVisible } from "../use-page-visible";
import {
  type Alert,
  type AlertEvent,
  alertKey,
  attentionCount,
  decideAlert,
  firstSighting,
  requestUrl,
  stripTitleCount,
  titleWithCount,
} from "./rules";
import { installAudioUnlock, isMuted, playAlertSound, useAudioUnlocked } from "./sound";
import { isLeaderTabNow, otherTabStates, shareTabState, useIsLeaderTab } from "./tab-leader";

export type StaffAlertsOptions = {
  me: { id: string; name: string };
  queue: Queue | undefined;
  /** The conversation open in this tab (the `?request=` id), or null. */
  viewingRequestId: string | null;
};

/**
 * Staff are on the floor, not at the screen. Every staff tab keeps the count of what needs
 * attention in its title; one tab, the leader, plays the alert tone and, when no staff tab is on
 * screen, shows a browser notification. One tab, so an event rings once however many are open.
 */
export function useStaffAlerts({ me, queue, viewingRequestId }: StaffAlertsOptions) {
  const router = useRouter();
  const trpc = useTRPC();
  const accepting = useQuery(trpc.staff.me.queryOptions()).data?.acceptingChats ?? true;
  const channel = useChannel(STAFF_CHANNEL);
  const visible = usePageVisible();
  const audioUnlocked = useAudioUnlocked();
  useIsLeaderTab(); // joins the election for as long as the portal is mounted

  useEffect(() => installAudioUnlock(), []);

  // Rank 0 for a tab that can play sound, so the leader is one that is heard.
  useEffect(() => {
    shareTabState({ rank: audioUnlocked ? 0 : 1, info: { visible, viewing: visible ? viewingRequestId : null } });
  }, [audioUnlocked, visible, viewingRequestId]);

  const latest = useRef({ me, viewingRequestId, accepting });
  latest.current = { me, viewingRequestId, accepting };

  const [firstTime] = useState(() => firstSighting());
  const raise = (event: AlertEvent) => {
    // Once per message (or request version), however many copies arrive. Every tab notes it,
    // leader or not, so a tab that takes the lead between two copies does not ring for the second.
    if (!firstTime(alertKey(event))) return;
    // Read at the moment of the event: leadership and visibility may have changed since render.
    if (!isLeaderTabNow()) return;
    const here = document.visibilityState === "visible";
    const others = otherTabStates();
    const alert = decideAlert(event, {
      meId: latest.current.me.id,
      acceptingChats: latest.current.accepting,
      onScreen: [here ? latest.current.viewingRequestId : null, ...others.map((t) => (t.visible ? t.viewing : null))],
      anyTabVisible: here || others.some((t) => t.visible),
    });
    if (!alert) return;
    playAlertSound();
    if (alert.notify) showNotification(alert, (url) => router.push(url));
  };

  useEvent(channel, EVENTS.newChatRequest, (raw) =>
    raise({ kind: "new-request", request: decodeEvent<RequestEvent>(raw).request }),
  );
  useEvent(channel, EVENTS.chatRequestEscalated, (raw) =>
    raise({ kind: "escalated", request: decodeEvent<RequestEvent>(raw).request }),
  );
  // Every message on the staff channel comes as chat-message-received; the player's ones alert.
  useEvent(channel, EVENTS.chatMessageReceived, (raw) => {
    const { request, message } = decodeEvent<MessageEvent>(raw);
    if (message.sender === "player") raise({ kind: "player-message", request, message });
  });

  useTitleCount(attentionCount(queue, me.id));
}

/** `(n) <title>` while n > 0; the plain title back at 0 and on unmount. */
function useTitleCount(count: number) {
  useEffect(() => {
    const apply = () => {
      const wanted = titleWithCount(document.title, count);
      if (document.title !== wanted) document.title = wanted;
    };
    apply();
    // Next.js rewrites <title> on client navigations (opening a chat changes the URL): put the
    // count back whenever the head changes. Writing the same title again is a no-op, so no loop.
    const observer = new MutationObserver(apply);
    observer.observe(document.head, { subtree: true, childList: true, characterData: true });
    return () => {
      observer.disconnect();
      const base = stripTitleCount(document.title);
      if (document.title !== base) document.title = base;
    };
  }, [count]);
}

function showNotification(alert: Alert, navigate: (url: string) => void) {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  try {
    const notification = new Notification(alert.title, {
      body: alert.body,
      // One notification per chat: a second message replaces the first instead of stacking.
      tag: `floorline-request-${alert.requestId}`,
      silent: isMuted(),
    });
    notification.onclick = () => {
      window.focus();
      navigate(requestUrl(alert.requestId));
      notification.close();
    };
  } catch {
    // Android Chrome allows notifications only from a service worker; the tone still played.
  }
}
