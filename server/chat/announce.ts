import superjson from "superjson";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import { EVENTS, playerChannel, STAFF_CHANNEL } from "./channels";
import { forPlayer } from "./player-view";
import type { StatusChange } from "./receipts";

/**
 * What each change tells whom. Events are hints carrying the stored row (with its seq); a client
 * that misses one catches up from the database. Payloads are superjson so dates stay dates.
 */
export type OutgoingEvent = { channel: string; name: string; data: unknown };

export type MessageEvent = { message: ChatMessage; request: ChatRequest };
export type RequestEvent = { request: ChatRequest };
export type StatusEvent = Omit<StatusChange, "updated">;
export type TypingEvent = { playerId: number; who: "player" | "staff"; name: string };

export function playerMessageEvents(r: MessageEvent & { openedRequest: boolean }): OutgoingEvent[] {
  const payload: MessageEvent = { message: r.message, request: r.request };
  return [
    ...(r.openedRequest ? [{ channel: STAFF_CHANNEL, name: EVENTS.newChatRequest, data: { request: r.request } }] : []),
    { channel: STAFF_CHANNEL, name: EVENTS.chatMessageReceived, data: payload },
    { channel: STAFF_CHANNEL, name: EVENTS.newPlayerMessage, data: payload },
    // The player's other tabs: the message is stored.
    { channel: playerChannel(r.message.playerId), name: EVENTS.playerConfirmation, data: forPlayer(payload) },
  ];
}

export function staffReplyEvents(r: MessageEvent): OutgoingEvent[] {
  const payload: MessageEvent = { message: r.message, request: r.request };
  const player = playerChannel(r.message.playerId);
  return [
    { channel: player, name: EVENTS.chatMessageReceived, data: forPlayer(payload) },
    { channel: player, name: EVENTS.newGreMessage, data: forPlayer(payload) },
    { channel: STAFF_CHANNEL, name: EVENTS.chatMessageReceived, data: payload },
    { channel: STAFF_CHANNEL, name: EVENTS.chatRequestUpdated, data: { request: r.request } },
  ];
}

export function requestUpdatedEvents(request: ChatRequest): OutgoingEvent[] {
  const data: RequestEvent = { request };
  return [
    { channel: STAFF_CHANNEL, name: EVENTS.chatRequestUpdated, data },
    { channel: playerChannel(request.playerId), name: EVENTS.chatRequestUpdated, data: forPlayer(data) },
  ];
}

export function escalationEvents(request: ChatRequest): OutgoingEvent[] {
  return [{ channel: STAFF_CHANNEL, name: EVENTS.chatRequestEscalated, data: { request } satisfies RequestEvent }];
}

export function statusEvents(change: StatusChange): OutgoingEvent[] {
  if (change.updated === 0) return [];
  const { updated: _, ...data } = change;
  return [
    { channel: playerChannel(change.playerId), name: EVENTS.messageStatus, data },
    { channel: STAFF_CHANNEL, name: EVENTS.messageStatus, data },
  ];
}

export const encodePayload = (data: unknown) => superjson.serialize(data);
export const decodePayload = <T>(raw: unknown) =>
  superjson.deserialize<T>(raw as Parameters<typeof superjson.deserialize>[0]);
