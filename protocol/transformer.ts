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

/** Where a value sits inside another: keys and array indices, from the outside in. */
export type JsonPath = (string | number)[];

/**
 * A value whose JSON text its maker already has (the staff queue: Postgres writes it, server/chat/
 * staff.ts), so its readers write that text instead of walking the value: tRPC's answer
 * (serializedText, server/http/trpc-direct.ts) and a page's dehydrated data (app/_trpc/dehydrated-
 * data.ts). `json` must be exactly `JSON.stringify(value)`, and `datePaths` the paths of its Dates
 * in the order superjson walks them (depth first, keys in order).
 *
 * The text is only true while the value is as it was made, so the value is frozen here, deeply: a
 * change anywhere in it throws (strict mode) instead of being written as the old text. A Date keeps
 * its time in an internal slot that no freeze reaches (`setTime`), so each Date's time is kept too and
 * compared before the text is used; a Date changed in place sends the value down the walk, which
 * writes what it now holds. Freezing the staff queue's ~120 items costs ~0.05 ms (bench/README.md,
 * "The queue's stored text").
 */
type Known = { json: string; datePaths: JsonPath[]; dates: Date[]; times: number[] };

/**
 * What withJsonText's freeze makes of a value, as a type: objects and arrays read-only all the way
 * down, so a change is a type error before it is a TypeError. Dates stay Dates (no freeze reaches
 * their time; withJsonText checks it instead).
 */
export type DeepReadonly<T> = T extends Date
  ? T
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;
const knownTexts = new WeakMap<object, Known>();

export function withJsonText<T extends object>(value: T, json: string, datePaths: JsonPath[]): DeepReadonly<T> {
  const dates = datePaths.map((path) => {
    let at: unknown = value;
    for (const key of path) at = (at as Record<string | number, unknown>)[key];
    if (!(at instanceof Date)) throw new Error(`withJsonText: no Date at ${path.join(".")}`);
    return at;
  });
  deepFreeze(value);
  knownTexts.set(value, { json, datePaths, dates, times: dates.map((d) => d.getTime()) });
  return value as DeepReadonly<T>;
}

/** The JSON text `value` was made with and its Dates' paths, while it still says what `value` holds. */
export function knownJsonText(value: unknown): { json: string; datePaths: JsonPath[] } | undefined {
  const known = typeof value === "object" && value !== null ? knownTexts.get(value) : undefined;
  if (!known) return undefined;
  const { dates, times } = known;
  for (let i = 0; i < dates.length; i++) if ((dates[i] as Date).getTime() !== times[i]) return undefined;
  return known;
}

/** `JSON.stringify(transformer.serialize(value))`, from the text the value was made with if it has one. */
export function serializedText(value: unknown): string {
  const known = knownJsonText(value);
  if (known) return superjsonText(known.json, known.datePaths);
  return JSON.stringify(transformer.serialize(value));
}

/**
 * superjson's form as text of a value given as JSON text whose Dates are ISO strings at `datePaths`
 * (in the order superjson walks them): what serialize makes of the value with Dates, written out.
 */
export function superjsonText(json: string, datePaths: JsonPath[]): string {
  if (datePaths.length === 0) return `{"json":${json}}`;
  const values = datePaths.map((path) => `${JSON.stringify(path.join("."))}:["Date"]`).join(",");
  return `{"json":${json},"meta":{"values":{${values}},"v":1}}`;
}

/**
 * Objects and arrays frozen all the way down. Dates are left as they are: freezing one keeps its
 * time settable all the same (withJsonText checks it instead), and the queue's 600 would double
 * the cost.
 */
function deepFreeze(value: object) {
  Object.freeze(value);
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === "object" && v !== null && !(v instanceof Date) && !Object.isFrozen(v)) deepFreeze(v);
  }
}

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
      return Number.isNaN(time) ? GIVE_UP : this.annotate(path, "Date", isoAt(time));
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

/** `date.toISOString()`, made faster (isoAt). */
export const isoString = (date: Date) => isoAt(date.getTime());

const DAY = 86_400_000;
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * What `new Date(time).toISOString()` writes, computed from the time (days to a civil date:
 * Howard Hinnant's `civil_from_days`) for years 0000–9999, V8's own for the rest (±YYYYYY). V8's
 * took ~0.9 µs a Date here, about half of the walk over the staff queue's 600 Dates (issue 11,
 * bench/README.md "The queue's web CPU"); this one ~0.25 µs. Same text for every time
 * (tests/web/wire-transformer.test.ts).
 */
function isoAt(time: number): string {
  const days = Math.floor(time / DAY);
  const z = days + 719_468; // days since 0000-03-01
  if (z < 0 || z >= 3_652_425) return new Date(time).toISOString();
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const m5 = Math.floor((5 * dayOfYear + 2) / 153); // months from March
  const day = dayOfYear - Math.floor((153 * m5 + 2) / 5) + 1;
  const month = m5 < 10 ? m5 + 3 : m5 - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year > 9999) return new Date(time).toISOString();
  let ms = time - days * DAY;
  const hours = Math.floor(ms / 3_600_000);
  ms -= hours * 3_600_000;
  const minutes = Math.floor(ms / 60_000);
  ms -= minutes * 60_000;
  const seconds = Math.floor(ms / 1000);
  ms -= seconds * 1000;
  const y = year < 10 ? `000${year}` : year < 100 ? `00${year}` : year < 1000 ? `0${year}` : `${year}`;
  return `${y}-${pad2(month)}-${pad2(day)}T${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(ms)}Z`;
}
