import { describe, expect, it } from "vitest";
import {
  applyMessage,
  markPlayerRead,
  mergeFetchedConversation,
  mergeFetchedQueue,
  splitQueue,
  upsertRequest,
  withNewerRequest,
} from "@/app/_chat/queue-cache";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import type { QueueItem } from "@/protocol/events";

const request = (id: string, over: Partial<ChatRequest> = {}): ChatRequest => ({
  id,
  playerId: 29,
  playerName: "Ravi",
  initialMessage: "hi",
  status: "waiting",
  assignedStaffId: null,
  createdAt: new Date(1000),
  claimedAt: null,
  firstResponseAt: null,
  resolvedAt: null,
  lastMessageAt: new Date(1000),
  escalatedAt: null,
  version: 1,
  lastMessageSeq: null,
  lastMessageSender: null,
  lastMessageText: null,
  lastMessageSentAt: null,
  unreadCount: 0,
  ...over,
});
const message = (seq: number, over: Partial<ChatMessage> = {}): ChatMessage => ({
  id: `m${seq}`,
  requestId: "a",
  playerId: 29,
  seq,
  sender: "player",
  senderName: "Ravi",
  senderUserId: null,
  messageText: `text ${seq}`,
  timestamp: new Date(1000 + seq),
  status: "sent",
  photo: null,
  ...over,
});

describe("staff queue cache", () => {
  it("adds a new request and updates a known one in place", () => {
    const items = upsertRequest([], request("a")) as QueueItem[];
    expect(items).toHaveLength(1);
    const updated = upsertRequest(items, request("a", { status: "in_progress", assignedStaffId: "s1", version: 2 }));
    expect(updated).toHaveLength(1);
    expect(updated?.[0]).toMatchObject({ status: "in_progress", assignedStaffId: "s1", unreadCount: 0 });
  });

  it("applies a request only when it is newer than the one held, whatever order events arrive in", () => {
    const waiting = request("a", { version: 3 });
    const claimed = request("a", { status: "in_progress", assignedStaffId: "s1", version: 4 });
    const resolved = request("a", { status: "resolved", assignedStaffId: "s1", version: 5 });
    let items = upsertRequest([], waiting);
    items = upsertRequest(items, resolved);
    items = upsertRequest(items, claimed); // late
    items = upsertRequest(items, waiting); // later still
    expect(items?.[0]).toMatchObject({ status: "resolved", version: 5 });
    // A message event carrying an older request still counts the message, but keeps the newer state.
    items = applyMessage(items, message(1), claimed);
    expect(items?.[0]).toMatchObject({ status: "resolved", version: 5, unreadCount: 1 });

    const card = { request: claimed, player: { id: 29 } };
    expect(withNewerRequest(card, waiting)).toBe(card);
    expect(withNewerRequest(card, resolved)?.request.status).toBe("resolved");
    expect(withNewerRequest(card, request("b", { version: 9 }))).toBe(card);
  });

  it("keeps what events brought when a refetch read the rows before them", () => {
    const fetched = [{ ...request("a", { version: 2 }), lastMessage: null, unreadCount: 0 }];
    const held = upsertRequest(fetched, request("a", { status: "resolved", version: 3 }));
    const merged = mergeFetchedQueue(applyMessage(held, message(4), request("a", { version: 1 })), fetched);
    expect(merged).toMatchObject([{ status: "resolved", version: 3, lastMessage: { seq: 4 }, unreadCount: 1 }]);
    expect(mergeFetchedQueue(undefined, fetched)).toBe(fetched);

    const card = { request: request("a", { status: "resolved", version: 3 }), player: { id: 29 } };
    const stale = { request: request("a", { version: 2 }), player: { id: 29 } };
    expect(mergeFetchedConversation(card, stale)).toMatchObject({ request: { status: "resolved", version: 3 } });
    const fresh = { request: request("a", { version: 4 }), player: { id: 29 } };
    expect(mergeFetchedConversation(card, fresh)).toBe(fresh);
  });

  it("counts each player message once, even when delivered twice", () => {
    let items = upsertRequest([], request("a"));
    items = applyMessage(items, message(1), request("a"));
    items = applyMessage(items, message(1), request("a"));
    items = applyMessage(items, message(2), request("a"));
    expect(items?.[0]?.unreadCount).toBe(2);
    expect(items?.[0]?.lastMessage?.messageText).toBe("text 2");
    items = applyMessage(items, message(3, { sender: "staff" }), request("a"));
    expect(items?.[0]?.unreadCount).toBe(2);
    expect(markPlayerRead(items, 29)?.[0]?.unreadCount).toBe(0);
  });

  it("sorts waiting oldest first and resolved newest first", () => {
    const items = [
      { ...request("new", { createdAt: new Date(3000) }), lastMessage: null, unreadCount: 0 },
      { ...request("old", { createdAt: new Date(1000) }), lastMessage: null, unreadCount: 0 },
      { ...request("r1", { status: "resolved", resolvedAt: new Date(10) }), lastMessage: null, unreadCount: 0 },
      { ...request("r2", { status: "resolved", resolvedAt: new Date(20) }), lastMessage: null, unreadCount: 0 },
    ] satisfies QueueItem[];
    const { waiting, resolved } = splitQueue(items);
    expect(waiting.map((i) => i.id)).toEqual(["old", "new"]);
    expect(resolved.map((i) => i.id)).toEqual(["r2", "r1"]);
  });
});
