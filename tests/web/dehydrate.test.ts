import { dehydrate, hydrate } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { createQueryClient } from "@/app/_trpc/query-client";

// What a page prefetches travels from the server's query client to the browser's through React's
// Flight payload (HydrateClient in app/_trpc/server.tsx), which writes and revives Dates, Maps,
// bigints and undefined itself (structuredClone stands in for it here); the browser must read it
// back as the same rows, Dates included: the staff page's queue is 120 of them.
const row = (i: number) => ({
  id: `request-${i}`,
  playerName: `Player ${i}`,
  createdAt: new Date(Date.UTC(2026, 10, 27, 5, 0, i)),
  resolvedAt: null,
  escalatedAt: undefined,
  unreadCount: i,
  lastMessage: {
    messageText: `hi "${i}" \u2028 </script>`,
    seq: i,
    timestamp: new Date(Date.UTC(2026, 10, 27, 6, 0, i)),
  },
});

async function roundTrip(data: unknown) {
  const server = createQueryClient();
  await server.prefetchQuery({ queryKey: ["staff", "queue"], queryFn: async () => data });
  const state = dehydrate(server);
  const browser = createQueryClient();
  hydrate(browser, structuredClone(state));
  return { state, read: browser.getQueryData(["staff", "queue"]) };
}

describe("a page's prefetched data, dehydrated and hydrated", () => {
  it("reads back as the same rows, Dates as Dates", async () => {
    const rows = Array.from({ length: 120 }, (_, i) => row(i));
    const { read } = await roundTrip(rows);
    expect(read).toEqual(rows);
    expect((read as ReturnType<typeof row>[])[3]?.createdAt).toBeInstanceOf(Date);
  });

  it("hands Flight the rows as they are: no second encoding for both ends to walk", async () => {
    const rows = [row(1), row(2)];
    const { state } = await roundTrip(rows);
    expect(state.queries[0]?.state.data).toBe(rows);
  });

  it("keeps values superjson alone knows (a Map, a bigint)", async () => {
    const data = { m: new Map([["k", 1n]]), at: new Date(0) };
    const { read } = await roundTrip(data);
    expect(read).toEqual(data);
  });
});
