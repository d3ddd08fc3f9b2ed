import { dehydrate, hydrate } from "@tanstack/react-query";
import fc from "fast-check";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { decodeDehydrated, encodeDehydrated } from "@/app/_trpc/dehydrated-data";
import { createQueryClient } from "@/app/_trpc/query-client";
import { anyValue } from "../support/values";

// What a page prefetches travels from the server's query client to the browser's inside React's
// Flight payload (HydrateClient in app/_trpc/server.tsx), and the browser must read it back as the
// same rows, Dates included: the staff page's queue is 120 of them.
const row = (i: number) => ({
  id: `request-${i}`,
  playerName: `Player ${i}`,
  createdAt: new Date(Date.UTC(2026, 10, 27, 5, 0, i)),
  resolvedAt: null,
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
    expect(read).toStrictEqual(rows);
    expect((read as ReturnType<typeof row>[])[3]?.createdAt).toBeInstanceOf(Date);
  });

  it("travels as one string, which Flight writes out as it is instead of visiting every field", async () => {
    const { state } = await roundTrip([row(1), row(2)]);
    expect(typeof state.queries[0]?.state.data).toBe("string");
  });

  it("keeps values JSON cannot say (a Map, a bigint, undefined)", async () => {
    const data = { m: new Map([["k", 1n]]), at: new Date(0), gone: undefined };
    const { read } = await roundTrip(data);
    expect(read).toStrictEqual(data);
  });
});

describe("encodeDehydrated / decodeDehydrated", () => {
  it("give back what superjson's own round trip through text gives, for every value superjson takes", () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        let expected: unknown;
        try {
          // Through text, as the page's data travels: an invalid Date is a Date in superjson's
          // form (`{"json": <the Date>}`, no annotation), which JSON writes as null. Kept as an
          // object (serialize, then deserialize) it would come back a Date no transport delivers.
          expected = superjson.parse(superjson.stringify(v));
        } catch {
          return; // superjson refuses it (e.g. a "__proto__" key): nothing to match
        }
        expect(decodeDehydrated(encodeDehydrated(v))).toStrictEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("keep an object met twice as one object, as superjson does", () => {
    const shared = { at: new Date(0) };
    const back = decodeDehydrated(encodeDehydrated({ a: shared, b: [shared] })) as { a: object; b: object[] };
    expect(back.a).toBe(back.b[0]);
  });
});
