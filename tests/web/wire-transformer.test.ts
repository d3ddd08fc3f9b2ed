import fc from "fast-check";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import {
  isoString,
  knownJsonText,
  serializedText,
  superjsonText,
  transformer,
  withJsonText,
} from "@/protocol/transformer";
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

  it("writes every Date's time as toISOString does", () => {
    const edges = [-62167219200001, -62167219200000, -1, 0, 951782400000, 253402300799999, 253402300800000];
    for (const t of edges) expect(isoString(new Date(t))).toBe(new Date(t).toISOString());
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (t) => {
        expect(isoString(new Date(t))).toBe(new Date(t).toISOString());
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.date({ min: new Date("1900-01-01"), max: new Date("2200-01-01"), noInvalidDate: true }), (d) => {
        expect(isoString(d)).toBe(d.toISOString());
      }),
      { numRuns: 5000 },
    );
  });

  it("writes a value given as JSON text with its Dates' paths as superjson's form", () => {
    const rows = [
      { id: "a", at: new Date(0), last: { at: new Date(1) } },
      { id: "b", at: null, last: null },
    ];
    const json = JSON.stringify(rows);
    expect(
      superjsonText(json, [
        [0, "at"],
        [0, "last", "at"],
      ]),
    ).toBe(JSON.stringify(superjson.serialize(rows)));
    expect(superjsonText("[]", [])).toBe(JSON.stringify(superjson.serialize([])));
    expect(serializedText(rows)).toBe(JSON.stringify(superjson.serialize(rows)));
    // The text a value was made with is what is written, not a walk of the value.
    const given = withJsonText([{ n: 1 }], '[{"n":"given"}]', []);
    expect(serializedText(given)).toBe('{"json":[{"n":"given"}]}');
  });

  it("keeps a value made with its text from ever being written with a text that no longer says it", () => {
    const rows = withJsonText(
      [{ id: "a", at: new Date(0), last: { at: new Date(1) } }],
      '[{"id":"a","at":"1970-01-01T00:00:00.000Z","last":{"at":"1970-01-01T00:00:00.001Z"}}]',
      [
        [0, "at"],
        [0, "last", "at"],
      ],
    );
    expect(knownJsonText(rows)?.datePaths).toEqual([
      [0, "at"],
      [0, "last", "at"],
    ]);
    expect(() => {
      (rows[0] as { id: string }).id = "b";
    }).toThrow(TypeError);
    expect(() => {
      (rows[0]?.last as { at: Date | null }).at = null;
    }).toThrow(TypeError);
    rows[0]?.last.at.setTime(5);
    expect(knownJsonText(rows)).toBeUndefined();
    expect(serializedText(rows)).toBe(JSON.stringify(superjson.serialize(rows)));
    expect(() => withJsonText([{ at: "not a Date" }], '[{"at":"not a Date"}]', [[0, "at"]])).toThrow();
  });
});
