import superjson from "superjson";
import type { ChatMessage, ChatRequest, MessageStatus, Sender } from "@/db/schema";

/**
 * What travels on the channels (protocol/channels.ts names them). Events are hints carrying the
 * stored row: a message with its seq, a request with its version. A client that misses one
 * catches up from the database. Payloads are superjson so dates stay dates.
 */
export type MessageEvent = { message: ChatMessage; request: ChatRequest };
export type RequestEvent = { request: ChatRequest };
/** Receipts moved forward for one side's messages up to a seq. */
export type StatusEvent = {
  playerId: number;
  /** Whose messages changed: staff report on player messages, the player on staff messages. */
  sender: Sender;
  status: Exclude<MessageStatus, "sent">;
  upToSeq: number;
};
export type TypingEvent = { who: "player" | "staff"; name: string };

/** A row of the staff queue (staff.queue), kept live from the events above. */
export type QueueItem = ChatRequest & {
  lastMessage: Pick<ChatMessage, "messageText" | "sender" | "seq" | "timestamp"> | null;
  /** Player messages staff have not read yet. */
  unreadCount: number;
};

export const encodePayload = (data: unknown) => superjson.serialize(data);
export const decodePayload = <T>(raw: unknown) =>
  superjson.deserialize<T>(raw as Parameters<typeof superjson.deserialize>[0]);
