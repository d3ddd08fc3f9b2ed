import fc from "fast-check";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { transformer } from "@/protocol/transformer";
import { anyValue as value } from "../support/values";

// The server answers tRPC with `transformer.serialize`; browsers read it with superjson. The
// invariant: for every value, the output is exactly superjson's, so nothing a client reads can tell
// them apart.
/** What a serializer made of `v`, or the error it refused `v` with (superjson refuses e.g. a "__proto__" key). */
function outcome(serialize: (v: unknown) => unknown, v: unknown) {
  try {
    return { made: serialize(v) };
  } catch (err) {
    return { refused: String(err) };
  }
}

describe("wire transformer", () => {
  it("serializes every value exactly as superjson does", () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(outcome(transformer.serialize, v)).toStrictEqual(outcome(superjson.serialize, v));
      }),
      // Counterexamples found in CI, kept so every run tries them.
      { numRuns: 2000, examples: [[{ "": [new Date(0)] }]] },
    );
  });

  it("keeps superjson's annotation of an object met twice", () => {
    const shared = { at: new Date(0) };
    const v = { a: shared, b: [shared] };
    expect(transformer.serialize(v)).toStrictEqual(superjson.serialize(v));
  });

  it("round-trips a queue-like read through superjson in the browser", () => {
    const rows = Array.from({ length: 3 }, (_, i) => ({
      id: `r${i}`,
      createdAt: new Date(i * 1000),
      resolvedAt: null,
      lastMessage: i % 2 ? null : { messageText: "hi", seq: i, timestamp: new Date(i) },
      unreadCount: i,
    }));
    expect(superjson.deserialize(transformer.serialize(rows))).toStrictEqual(rows);
  });
});
