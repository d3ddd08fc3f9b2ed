import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import { decodeEvent, encodeEvent, type MessageEvent, type RequestEvent } from "@/protocol/events";
import { MAX_MESSAGE_LENGTH, messageText } from "@/protocol/inputs";

/**
 * Pusher refuses event data over 10 KB, and so does our realtime server by default: an event over
 * it never reaches a socket. Every message a player or staff member may send has to fit, whatever
 * its characters (Devanagari is 3 bytes a character in UTF-8, a quote 2 in JSON), with the request
 * it travels with, whose first and last message may be as long.
 */
const PUSHER_EVENT_LIMIT = 10_240;

const request = (over: Partial<ChatRequest>): ChatRequest => ({
  id: "7f1c1a52-7d3a-4a4e-9a51-0c1f4d1e2b3c",
  playerId: 2_147_483_647,
  playerName: "N".repeat(80),
  initialMessage: "",
  status: "in_progress",
  assignedStaffId: "u".repeat(32),
  createdAt: new Date(0),
  claimedAt: new Date(0),
  firstResponseAt: new Date(0),
  resolvedAt: null,
  lastMessageAt: new Date(0),
  escalatedAt: new Date(0),
  version: 2_147_483_647,
  lastMessageSeq: 2_147_483_647,
  lastMessageSender: "player",
  lastMessageText: "",
  lastMessageSentAt: new Date(0),
  unreadCount: 2_147_483_647,
  ...over,
});
const message = (text: string): ChatMessage => ({
  id: "0b9e8f5e-3c1d-4f7a-8e2b-6a5d4c3b2a19",
  requestId: "7f1c1a52-7d3a-4a4e-9a51-0c1f4d1e2b3c",
  playerId: 2_147_483_647,
  seq: 2_147_483_647,
  sender: "staff",
  senderName: "N".repeat(80),
  senderUserId: "u".repeat(32),
  messageText: text,
  timestamp: new Date(0),
  status: "sent",
  photo: null,
});

// Texts as the input schema lets them through (the widest characters, at the longest length).
const wide = ["न", '"', "\\", "🎰", "\n", "\t", "a", "\u2028", "\u0085"];
const text = fc
  .array(fc.constantFrom(...wide), { minLength: 1, maxLength: MAX_MESSAGE_LENGTH, size: "max" })
  .map((chars) => chars.join("").slice(0, MAX_MESSAGE_LENGTH))
  .filter((t) => messageText.safeParse(t).success);
// What is already stored may be anything Postgres holds (older rows, other writers).
const stored = fc
  .string({ unit: "grapheme", maxLength: MAX_MESSAGE_LENGTH, size: "max" })
  .map((t) => t.slice(0, MAX_MESSAGE_LENGTH));

describe("events fit Pusher's 10 KB", () => {
  it("a message event, with its request, for any message the input schema accepts", () => {
    fc.assert(
      fc.property(text, stored, stored, (sent, first, last) => {
        const event: MessageEvent = {
          message: message(sent),
          request: request({ initialMessage: first, lastMessageText: last }),
        };
        expect(Buffer.byteLength(encodeEvent(event))).toBeLessThanOrEqual(PUSHER_EVENT_LIMIT);
      }),
      // No shrinking: a counterexample of 2,000 characters shrinks for minutes; the seed replays it.
      { numRuns: 100, endOnFailure: true },
    );
  });

  it("the longest message of the widest characters, and a request event with the same texts", () => {
    for (const char of ["न", '"', "🎰"]) {
      const long = char.repeat(MAX_MESSAGE_LENGTH / char.length);
      const event = { message: message(long), request: request({ initialMessage: long, lastMessageText: long }) };
      expect(Buffer.byteLength(encodeEvent(event))).toBeLessThanOrEqual(PUSHER_EVENT_LIMIT);
      expect(Buffer.byteLength(encodeEvent({ request: event.request }))).toBeLessThanOrEqual(PUSHER_EVENT_LIMIT);
      // The message itself arrives whole: only the request's copies of texts are shortened.
      expect(decodeEvent<MessageEvent>(encodeEvent(event)).message).toEqual(event.message);
      expect(decodeEvent<RequestEvent>(encodeEvent({ request: event.request })).request.id).toBe(event.request.id);
    }
  });

  it("refuses the characters JSON writes six bytes for (controls, broken surrogates)", () => {
    for (const bad of ["\u0001", "a\u001fb", "\ud800", "x\udc00y"]) {
      expect(messageText.safeParse(bad).success).toBe(false);
    }
    for (const good of ["line one\nline two", "tab\there", "crlf\r\n", "न🎰"]) {
      expect(messageText.safeParse(good).success).toBe(true);
    }
  });
});
