import fc from "fast-check";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { transformer } from "@/protocol/transformer";

// The server answers tRPC and dehydrates pages with `transformer.serialize`; browsers read it with
// superjson. The invariant: for every value, the output is exactly superjson's, so nothing a client
// reads can tell them apart.
const leaf = fc.oneof(
  fc.string(),
  fc.double(), // NaN, ±Infinity and -0 included: superjson annotates them
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date(), // invalid dates included
  fc.bigInt(),
  fc.constant(new Map([["k", 1]])),
  fc.constant(new Set([1])),
  fc.constant(/re/g),
);
const key = fc.oneof(fc.string(), fc.constantFrom("a.b", "a\\b", "__proto__", "constructor", "0", ""));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 5 }),
  object: fc.dictionary(key, tie("value"), { maxKeys: 5 }),
}));

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
