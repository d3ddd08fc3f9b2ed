import type { ChatMessage, ChatRequest, MessageStatus, Sender } from "@/db/schema";
import type { DeepReadonly } from "./transformer";

/**
 * What travels on the channels (protocol/channels.ts names them). Events are hints carrying the
 * stored row: a message with its seq, a request with its version. A client that misses one
 * catches up from the database. On the wire they are plain JSON (`encodeEvent`), dates as ISO
 * strings; clients turn them back into these types with `decodeEvent`.
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
/** Staff screens showing this request refetch its notes and timeline; the note itself stays in the database. */
export type NoteEvent = { requestId: string };
export type TypingEvent = { who: "player" | "staff"; name: string };

/**
 * A row of the staff queue (staff.queue), kept live from the events above: the request without
 * the columns the server keeps its last message in (db/migrations/0012) — those travel once, as
 * `lastMessage`.
 */
export type QueueItem = QueueRequest & {
  lastMessage: Pick<ChatMessage, "messageText" | "sender" | "seq" | "timestamp"> | null;
  /** Player messages staff have not read yet. */
  unreadCount: number;
};
/**
 * The staff queue as staff.queue answers it: read-only all the way down. The server's items are
 * frozen (their JSON text travels with them, withJsonText), and clients replace rows, never change them.
 */
export type Queue = DeepReadonly<QueueItem[]>;
export type QueueRequest = Omit<
  ChatRequest,
  "lastMessageSeq" | "lastMessageSender" | "lastMessageText" | "lastMessageSentAt"
>;

/**
 * A message event as it travels: the seed's fields at the top level (`id`, `message` = the text,
 * `sender`, `timestamp`), the rest of the stored row beside them, and the request it changed.
 * Any Pusher client can read it without our code; README's channels table documents it.
 */
export type WireMessageEvent = {
  id: string;
  message: string;
  sender: Sender;
  timestamp: string;
  seq: number;
  requestId: string;
  playerId: number;
  senderName: string;
  senderUserId: string | null;
  status: MessageStatus;
  request: Wire<ChatRequest>;
};
type Wire<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

const isMessageEvent = (data: unknown): data is MessageEvent =>
  typeof data === "object" && data !== null && "message" in data && typeof data.message === "object";

/** The JSON text of one event, made once per publish whatever the number of channels it goes to. */
export function encodeEvent(data: unknown): string {
  if (isMessageEvent(data)) {
    const { id, messageText, ...row } = data.message;
    return JSON.stringify({ id, message: messageText, ...row, request: wireRequest(data.request) });
  }
  if (hasRequest(data)) return JSON.stringify({ ...data, request: wireRequest(data.request) });
  return JSON.stringify(data);
}

/**
 * Pusher refuses event data over 10 KB, and so does our realtime server by default. An event
 * carries its message whole; the request beside it would repeat up to two more texts as long (its
 * first and its last message), so on the wire those are previews: what the queue and alerts show.
 * The full texts are in the thread. With the input rules any message then fits (event-size.test.ts).
 */
const WIRE_PREVIEW_LENGTH = 200;

function wireRequest(request: ChatRequest) {
  return {
    ...request,
    initialMessage: previewOf(request.initialMessage),
    lastMessageText: request.lastMessageText === null ? null : previewOf(request.lastMessageText),
  };
}

function previewOf(text: string) {
  if (text.length <= WIRE_PREVIEW_LENGTH) return text;
  const cut = text.slice(0, WIRE_PREVIEW_LENGTH);
  // Never half of a surrogate pair: JSON would write it as six bytes and a reader show garbage.
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

const hasRequest = (data: unknown): data is { request: ChatRequest } =>
  typeof data === "object" &&
  data !== null &&
  "request" in data &&
  typeof data.request === "object" &&
  data.request !== null &&
  "initialMessage" in data.request;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Date fields (`…At`, `timestamp`) back to Dates; everything else as it came. */
export function reviveDates<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...row };
  for (const [key, value] of Object.entries(out)) {
    if ((key.endsWith("At") || key === "timestamp") && typeof value === "string" && ISO_DATE.test(value)) {
      out[key] = new Date(value);
    }
  }
  return out as T;
}

/**
 * An event's data as pusher-js hands it over (parsed JSON, or the JSON text) back into the types
 * above: message events regain their `{ message, request }` shape, dates become Dates.
 */
export function decodeEvent<T>(raw: unknown): T {
  const data = (typeof raw === "string" ? JSON.parse(raw) : raw) as Record<string, unknown>;
  const request = data.request ? reviveDates<ChatRequest>(data.request as Record<string, unknown>) : undefined;
  if (typeof data.id === "string" && typeof data.message === "string") {
    const { message, request: _, ...row } = data;
    return { message: reviveDates<ChatMessage>({ ...row, messageText: message }), request } as T;
  }
  return (request ? { ...data, request } : data) as T;
}
