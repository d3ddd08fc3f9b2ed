"use client";

import { useQueryClient } from "@tanstack/react-query";
import { EVENTS, STAFF_CHANNEL, STAFF_PRESENCE } from "@/protocol/channels";
import { decodeEvent, type MessageEvent, type NoteEvent, type RequestEvent, type StatusEvent } from "@/protocol/events";
import { markPlayerRead } from "../../_chat/queue-cache";
import { useCatchUp } from "../../_chat/use-catch-up";
import { useChannel, useEvent } from "../../_realtime/provider";
import { useTRPC, useTRPCClient } from "../../_trpc/client";
import { useStaffCaches } from "./staff-caches";

/**
 * Keeps the queue live: every event is written into the React Query cache (no refetch),
 * and player messages are reported delivered as they reach a staff screen.
 */
export function useStaffLive(me: { id: string }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const channel = useChannel(STAFF_CHANNEL);
  // Joining presence-staff is what makes this person count as "staff online" for players.
  useChannel(STAFF_PRESENCE);
  const queueKey = trpc.staff.queue.queryKey();
  const caches = useStaffCaches();

  const applyRequestEvent = (raw: unknown) => caches.applyRequest(decodeEvent<RequestEvent>(raw).request);
  useEvent(channel, EVENTS.newChatRequest, applyRequestEvent);
  useEvent(channel, EVENTS.chatRequestUpdated, applyRequestEvent);
  // The row carries escalatedAt: the queue marks the chat overdue.
  useEvent(channel, EVENTS.chatRequestEscalated, applyRequestEvent);

  useEvent(channel, EVENTS.chatMessageReceived, (raw) => {
    const { message, request } = decodeEvent<MessageEvent>(raw);
    caches.applyRequest(request, message);
    const forMe = request.status === "waiting" || request.assignedStaffId === me.id;
    if (message.sender === "player" && message.status === "sent" && forMe) {
      void client.staff.markMessages
        .mutate({ playerId: message.playerId, status: "received", upToSeq: message.seq })
        .catch(() => {});
    }
  });

  useEvent(channel, EVENTS.messageStatus, (raw) => {
    const change = decodeEvent<StatusEvent>(raw);
    if (change.sender === "player" && change.status === "read") {
      queryClient.setQueryData(queueKey, (items) => markPlayerRead(items, change.playerId));
    }
  });

  // A colleague added a note: a conversation showing that chat loads its notes and timeline again.
  useEvent(channel, EVENTS.chatNoteAdded, (raw) => {
    const ids = { requestId: decodeEvent<NoteEvent>(raw).requestId };
    void queryClient.invalidateQueries({ queryKey: trpc.staff.notes.queryKey(ids) });
    void queryClient.invalidateQueries({ queryKey: trpc.staff.timeline.queryKey(ids) });
  });

  // After a drop, or before the subscription was live, the queue may have missed events: load it
  // again, once per (re)subscription.
  useCatchUp(channel, () => void queryClient.invalidateQueries({ queryKey: queueKey }));
}
