import superjson, { type SuperJSONResult } from "superjson";

/**
 * tRPC's transformer (pages dehydrate with app/_trpc/dehydrated-data.ts): superjson on the wire,
 * with a faster `serialize` for what our reads return — plain objects and arrays of strings,
 * finite numbers, booleans, null, undefined and Dates. superjson's generic walker took ≈ 6 ms of
 * CPU for the staff queue's 120 rows (issue 11: most of `staff.queue`'s server time after the
 * query); this one walk makes the same output. Whatever else it meets (Map, Set, bigint, NaN, -0,
 * a class instance, a key superjson would escape, an object met twice) goes to superjson itself,
 * so the output is always exactly superjson's (tests/web/wire-transformer.test.ts) and browsers
 * read it with plain superjson.
 */
export const transformer = {
  serialize(value: unknown): SuperJSONResult {
    if (value === null || typeof value !== "object" || !isPlain(value)) return superjson.serialize(value);
    const values: Record<string, [string]> = {};
    const walk = new Walk(values);
    const json = walk.value(value, "");
    if (json === GIVE_UP) return superjson.serialize(value);
    const out = { json: json as SuperJSONResult["json"] };
    // superjson's flat form of its annotation tree: "path.to.field" → [type]
    return walk.annotated ? { ...out, meta: { values: values as Annotations, v: 1 } } : out;
  },
  deserialize: superjson.deserialize,
};

const GIVE_UP = Symbol("give up");
type Annotations = NonNullable<SuperJSONResult["meta"]>["values"];

function isPlain(value: object) {
  return Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * Keys superjson escapes or refuses in annotation paths, and "" (whose path would read as the
 * parent's: `{ "": [date] }` is ".0" to superjson, "0" here; found by the property test).
 */
const awkwardKey = (key: string) =>
  key === "" ||
  key.includes(".") ||
  key.includes("\\") ||
  key === "__proto__" ||
  key === "constructor" ||
  key === "prototype";

class Walk {
  annotated = false;
  private readonly seen = new Set<object>();
  constructor(private readonly values: Record<string, [string]>) {}

  value(v: unknown, path: string): unknown {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        return Number.isFinite(v) && !Object.is(v, -0) ? v : GIVE_UP;
      case "undefined":
        return this.annotate(path, "undefined", null);
      case "object":
        return v === null ? null : this.object(v, path);
      default:
        return GIVE_UP;
    }
  }

  private object(v: object, path: string): unknown {
    // superjson records an object met twice (referentialEqualities); leave that to it.
    if (this.seen.has(v)) return GIVE_UP;
    this.seen.add(v);
    if (v instanceof Date) {
      const time = v.getTime();
      return Number.isNaN(time) ? GIVE_UP : this.annotate(path, "Date", v.toISOString());
    }
    const prefix = path === "" ? "" : `${path}.`;
    if (Array.isArray(v)) {
      const out: unknown[] = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) return GIVE_UP;
        const item = this.value(v[i], prefix + i);
        if (item === GIVE_UP) return GIVE_UP;
        out[i] = item;
      }
      return out;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return GIVE_UP;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      if (awkwardKey(key)) return GIVE_UP;
      const item = this.value((v as Record<string, unknown>)[key], prefix + key);
      if (item === GIVE_UP) return GIVE_UP;
      out[key] = item;
    }
    return out;
  }

  private annotate(path: string, type: string, json: unknown) {
    if (path === "") return GIVE_UP; // a Date or undefined at the root: superjson's own form
    this.values[path] = [type];
    this.annotated = true;
    return json;
  }
}
