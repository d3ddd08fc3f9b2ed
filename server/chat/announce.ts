import type { ChatRequest } from "@/db/schema";
import { EVENTS, playerChannel, STAFF_CHANNEL } from "@/protocol/channels";
import type { MessageEvent, NoteEvent, RequestEvent, StatusEvent } from "@/protocol/events";
import { forPlayer } from "./player-view";
import type { StatusChange } from "./receipts";

/**
 * What each change tells whom. Payload types and their encoding live in protocol/events.ts,
 * shared with the browser.
 */
export type OutgoingEvent = { channel: string; name: string; data: unknown };

export function playerMessageEvents(r: MessageEvent & { openedRequest: boolean }): OutgoingEvent[] {
  const payload: MessageEvent = { message: r.message, request: r.request };
  return [
    ...(r.openedRequest ? [{ channel: STAFF_CHANNEL, name: EVENTS.newChatRequest, data: { request: r.request } }] : []),
    // One message event per message on the staff channel: alerts read it too (sender "player").
    { channel: STAFF_CHANNEL, name: EVENTS.chatMessageReceived, data: payload },
    // The player's other tabs: the message is stored.
    { channel: playerChannel(r.message.playerId), name: EVENTS.playerConfirmation, data: forPlayer(payload) },
  ];
}

export function staffReplyEvents(r: MessageEvent): OutgoingEvent[] {
  const payload: MessageEvent = { message: r.message, request: r.request };
  const player = playerChannel(r.message.playerId);
  // One object per audience: the gateway serialises each distinct payload once.
  const playerPayload = forPlayer(payload);
  return [
    { channel: player, name: EVENTS.chatMessageReceived, data: playerPayload },
    { channel: player, name: EVENTS.newGreMessage, data: playerPayload },
    { channel: STAFF_CHANNEL, name: EVENTS.chatMessageReceived, data: payload },
    { channel: STAFF_CHANNEL, name: EVENTS.chatRequestUpdated, data: { request: r.request } },
  ];
}

/** A system line ("Asha is with you"): into the player's thread on every screen showing it. */
export function systemLineEvents(r: MessageEvent): OutgoingEvent[] {
  const payload: MessageEvent = { message: r.message, request: r.request };
  return [
    { channel: playerChannel(r.message.playerId), name: EVENTS.chatMessageReceived, data: forPlayer(payload) },
    { channel: STAFF_CHANNEL, name: EVENTS.chatMessageReceived, data: payload },
  ];
}

export function requestUpdatedEvents(request: ChatRequest): OutgoingEvent[] {
  const data: RequestEvent = { request };
  return [
    { channel: STAFF_CHANNEL, name: EVENTS.chatRequestUpdated, data },
    { channel: playerChannel(request.playerId), name: EVENTS.chatRequestUpdated, data: forPlayer(data) },
  ];
}

/** Staff are alerted again; the player's page learns it at once that staff were (its status says so). */
export function escalationEvents(request: ChatRequest): OutgoingEvent[] {
  const data: RequestEvent = { request };
  return [
    { channel: STAFF_CHANNEL, name: EVENTS.chatRequestEscalated, data },
    { channel: playerChannel(request.playerId), name: EVENTS.chatRequestUpdated, data: forPlayer(data) },
  ];
}

/** Notes are staff-only: never on a player's channel, and the event names the request, not the words. */
export function noteAddedEvents(requestId: string): OutgoingEvent[] {
  return [{ channel: STAFF_CHANNEL, name: EVENTS.chatNoteAdded, data: { requestId } satisfies NoteEvent }];
}

export function statusEvents(change: StatusChange): OutgoingEvent[] {
  if (change.updated === 0) return [];
  const { updated: _, ...data } = change;
  data satisfies StatusEvent;
  return [
    { channel: playerChannel(change.playerId), name: EVENTS.messageStatus, data },
    { channel: STAFF_CHANNEL, name: EVENTS.messageStatus, data },
  ];
}

export { decodeEvent, encodeEvent } from "@/protocol/events";
