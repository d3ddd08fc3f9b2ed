import { describe, expect, it } from "vitest";
import {
  applyStatus,
  firstGap,
  flattenHistory,
  type HistoryData,
  mergeIntoHistory,
  mergeMessages,
  resyncPoint,
} from "@/app/_chat/thread-cache";
import type { ChatMessage } from "@/db/schema";

const msg = (seq: number, over: Partial<ChatMessage> = {}): ChatMessage => ({
  id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
  requestId: "r",
  playerId: 29,
  seq,
  sender: seq % 2 ? "player" : "staff",
  senderName: "x",
  senderUserId: null,
  messageText: `m${seq}`,
  timestamp: new Date(1_700_000_000_000 + seq),
  status: "sent",
  photo: null,
  ...over,
});

/** Newest page first, as the infinite query keeps them. */
const history = (...pages: number[][]): HistoryData => ({
  pages: pages.map((seqs) => ({ messages: seqs.map((s) => msg(s)), olderCursor: undefined })),
  pageParams: pages.map(() => null),
});

describe("gap detection over every seq held", () => {
  const held = (...seqs: number[]) => seqs.map((s) => msg(s));
  it("sees no gap in a contiguous run, whatever its first seq", () => {
    expect(firstGap(held(5, 6, 7))).toBeNull();
    expect(firstGap(held())).toBeNull();
    expect(firstGap(held(1))).toBeNull();
  });
  it("sees a hole above the rows held before", () => {
    expect(firstGap(held(4, 5, 8))).toBe(5);
  });
  it("sees a hole below one's own later message (the sender's stored result)", () => {
    // 4 and 5 held; our own send came back as 7; the event for 6 was lost.
    expect(firstGap(held(4, 5, 7))).toBe(5);
  });
  it("reports the lowest hole when there are several", () => {
    expect(firstGap(held(1, 3, 4, 9))).toBe(1);
  });
});

describe("dedupe and ordering", () => {
  it("orders by seq, not by arrival, and keeps one copy per id", () => {
    const merged = mergeMessages([msg(1), msg(3)], [msg(2), msg(3), msg(1)]);
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it("never moves a receipt backwards", () => {
    const read = msg(1, { status: "read" });
    expect(mergeMessages([read], [msg(1, { status: "received" })])[0]?.status).toBe("read");
    expect(mergeMessages([msg(1)], [msg(1, { status: "received" })])[0]?.status).toBe("received");
  });

  it("puts new rows in the newest page and updates older pages in place", () => {
    const data = history([5, 6], [3, 4]);
    const merged = mergeIntoHistory(data, [msg(8), msg(7), msg(4, { status: "read" })]);
    expect(merged?.pages[0]?.messages.map((m) => m.seq)).toEqual([5, 6, 7, 8]);
    expect(merged?.pages[1]?.messages.find((m) => m.seq === 4)?.status).toBe("read");
    expect(flattenHistory(merged).map((m) => m.seq)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(flattenHistory(merged).at(-1)?.seq).toBe(8);
  });

  it("leaves rows older than anything loaded for scrolling", () => {
    const merged = mergeIntoHistory(history([5, 6]), [msg(2)]);
    expect(flattenHistory(merged).map((m) => m.seq)).toEqual([5, 6]);
  });

  it("merging the same event twice changes nothing", () => {
    const once = mergeIntoHistory(history([1]), [msg(2)]);
    const twice = mergeIntoHistory(once, [msg(2)]);
    expect(flattenHistory(twice)).toEqual(flattenHistory(once));
  });
});

describe("receipts and resync", () => {
  it("applies a status up to a seq for one side only", () => {
    const data = history([1, 2, 3, 4]);
    const changed = applyStatus(data, { status: "read", upToSeq: 3, sender: "player" });
    const statuses = flattenHistory(changed).map((m) => `${m.seq}:${m.sender}:${m.status}`);
    expect(statuses).toEqual(["1:player:read", "2:staff:sent", "3:player:read", "4:staff:sent"]);
    // Applying it again changes nothing and returns the same object (a cache write that re-renders nothing).
    expect(applyStatus(changed, { status: "read", upToSeq: 3, sender: "player" })).toBe(changed);
    expect(applyStatus(changed, { status: "received", upToSeq: 3, sender: "player" })).toBe(changed);
  });

  it("resyncs from the newest row, or earlier when my messages are not read yet", () => {
    const all = [msg(1, { status: "read" }), msg(2), msg(3), msg(4)];
    expect(resyncPoint(all, "player")).toBe(2); // seq 3 is mine and unread
    expect(
      resyncPoint(
        all.map((m) => ({ ...m, status: "read" as const })),
        "player",
      ),
    ).toBe(4);
    expect(resyncPoint([], "player")).toBe(0);
  });
});
