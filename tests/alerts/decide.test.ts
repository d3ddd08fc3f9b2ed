import { describe, expect, it } from "vitest";
import { alertFor, attentionCount, titleWithCount } from "@/app/_alerts/decide";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import type { QueueItem } from "@/server/chat/staff";

const request = (over: Partial<ChatRequest> = {}): ChatRequest => ({
  id: "r1",
  playerId: 29,
  playerName: "Ravi",
  initialMessage: "help with a deposit",
  status: "waiting",
  assignedStaffId: null,
  createdAt: new Date(0),
  claimedAt: null,
  firstResponseAt: null,
  resolvedAt: null,
  lastMessageAt: new Date(0),
  escalatedAt: null,
  ...over,
});
const message = (over: Partial<ChatMessage> = {}): ChatMessage => ({
  id: "m1",
  requestId: "r1",
  playerId: 29,
  seq: 2,
  sender: "player",
  senderName: "Ravi",
  senderUserId: null,
  messageText: "are you there?",
  timestamp: new Date(0),
  status: "sent",
  ...over,
});
const ctx = { meId: "me", viewingRequestId: null, visible: true };

describe("which events alert", () => {
  it("alerts every staff member to a new or escalated request", () => {
    expect(alertFor({ kind: "new-request", request: request() }, ctx)).toEqual({
      title: "New chat: Ravi (#29)",
      body: "help with a deposit",
      requestId: "r1",
    });
    expect(alertFor({ kind: "escalated", request: request() }, ctx)?.title).toBe("Still waiting: Ravi (#29)");
  });

  it("alerts to a player's message only in a chat I hold, unless I am looking at it", () => {
    const mine = request({ status: "in_progress", assignedStaffId: "me" });
    const event = { kind: "player-message" as const, request: mine, message: message() };
    expect(alertFor(event, ctx)?.body).toBe("are you there?");
    expect(alertFor(event, { ...ctx, viewingRequestId: "r1" })).toBeNull();
    expect(alertFor(event, { ...ctx, viewingRequestId: "r1", visible: false })).not.toBeNull();
    expect(
      alertFor({ ...event, request: request({ status: "in_progress", assignedStaffId: "other" }) }, ctx),
    ).toBeNull();
    expect(alertFor({ ...event, message: message({ sender: "staff" }) }, ctx)).toBeNull();
  });
});

describe("the tab title", () => {
  const item = (over: Partial<QueueItem>): QueueItem => ({ ...request(), lastMessage: null, unreadCount: 0, ...over });

  it("counts waiting chats and unread messages in my chats", () => {
    const queue = [
      item({ id: "a", status: "waiting", unreadCount: 3 }),
      item({ id: "b", status: "waiting" }),
      item({ id: "c", status: "in_progress", assignedStaffId: "me", unreadCount: 2 }),
      item({ id: "d", status: "in_progress", assignedStaffId: "other", unreadCount: 5 }),
      item({ id: "e", status: "resolved", unreadCount: 1 }),
    ];
    expect(attentionCount(queue, "me")).toBe(4);
    expect(attentionCount(undefined, "me")).toBe(0);
  });

  it("shows the count only when there is something", () => {
    expect(titleWithCount("Queue · Floorline staff", 3)).toBe("(3) Queue · Floorline staff");
    expect(titleWithCount("Queue · Floorline staff", 0)).toBe("Queue · Floorline staff");
  });
});
