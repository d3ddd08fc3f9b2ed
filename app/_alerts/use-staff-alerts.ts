"use client";

import { useEffect, useRef, useState } from "react";
import { decodePayload, type MessageEvent, type RequestEvent } from "@/server/chat/announce";
import { EVENTS, STAFF_CHANNEL } from "@/server/chat/channels";
import type { QueueItem } from "@/server/chat/staff";
import { useChannel, useEvent } from "../_realtime/provider";
import { type Alert, type AlertEvent, alertFor, attentionCount, titleWithCount } from "./decide";
import { playChime, unlockAudioOnFirstInteraction } from "./sound";
import { TabLeaderElection } from "./tab-leader";

/** True in exactly one of this browser's staff tabs. */
export function useIsLeaderTab() {
  const [leader, setLeader] = useState(false);
  useEffect(() => {
    if (typeof BroadcastChannel === "undefined") {
      setLeader(true); // nothing to coordinate with
      return;
    }
    const election = new TabLeaderElection({
      id: `${Date.now().toString(36)}-${crypto.randomUUID()}`,
      channel: new BroadcastChannel("floorline-staff-tabs"),
      onChange: setLeader,
    }).start();
    const resign = () => election.stop();
    window.addEventListener("pagehide", resign);
    return () => {
      window.removeEventListener("pagehide", resign);
      election.stop();
    };
  }, []);
  return leader;
}

/**
 * Staff are on the floor, not at the screen: the leader tab chimes, and shows a browser
 * notification while hidden; every tab keeps the count of what needs attention in its title.
 */
export function useStaffAlerts(opts: {
  me: { id: string };
  queue: QueueItem[] | undefined;
  viewingRequestId: string | null;
}) {
  const channel = useChannel(STAFF_CHANNEL);
  const leader = useIsLeaderTab();
  const latest = useRef({ ...opts, leader });
  latest.current = { ...opts, leader };

  useEffect(() => unlockAudioOnFirstInteraction(), []);

  const raise = (event: AlertEvent) => {
    const { me, viewingRequestId, leader: isLeader } = latest.current;
    const visible = document.visibilityState === "visible";
    const alert = alertFor(event, { meId: me.id, viewingRequestId, visible });
    if (!alert || !isLeader) return;
    playChime();
    if (!visible) showNotification(alert);
  };
  useEvent(channel, EVENTS.newChatRequest, (raw) =>
    raise({ kind: "new-request", request: decodePayload<RequestEvent>(raw).request }),
  );
  useEvent(channel, EVENTS.chatRequestEscalated, (raw) =>
    raise({ kind: "escalated", request: decodePayload<RequestEvent>(raw).request }),
  );
  useEvent(channel, EVENTS.newPlayerMessage, (raw) => {
    const { request, message } = decodePayload<MessageEvent>(raw);
    raise({ kind: "player-message", request, message });
  });

  // Runs after every render: a navigation (opening a conversation) may have reset the title.
  const count = attentionCount(opts.queue, opts.me.id);
  useEffect(() => {
    const base = document.title.replace(/^\(\d+\) /, "");
    const wanted = titleWithCount(base, count);
    if (document.title !== wanted) document.title = wanted;
  });
}

function showNotification(alert: Alert) {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const notification = new Notification(alert.title, { body: alert.body, tag: alert.requestId });
  notification.onclick = () => {
    window.focus();
    window.location.assign(`/staff?request=${alert.requestId}`);
  };
}
