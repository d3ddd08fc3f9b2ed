import fc from "fast-check";

/**
 * Any value a read could hand a serialiser, and the awkward ones besides: NaN, ±Infinity, -0,
 * invalid Dates, bigints, Maps, Sets, RegExps, undefined, and keys that superjson escapes or refuses.
 * For the property tests that hold our serialisers to superjson's output.
 */
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
const key = fc.oneof(fc.string(), fc.constantFrom("a.b", "a\\b", "__proto__", "constructor", "toJSON", "0", ""));
export const { value: anyValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 5 }),
  object: fc.dictionary(key, tie("value"), { maxKeys: 5 }),
}));
