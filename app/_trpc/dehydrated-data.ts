import superjson, { type SuperJSONResult } from "superjson";
import { type JsonPath, knownJsonText } from "@/protocol/transformer";

/**
 * How a page's prefetched data reaches the browser (HydrateClient in server.tsx → React's Flight
 * payload → HydrationBoundary, and the server's own SSR pass reads it the same way): one string,
 * which Flight writes out as it is. Handed to Flight as objects, Flight's writer called back into
 * JavaScript for every value of the staff queue's 120 rows (~2,900; ~3 ms of the page's CPU,
 * issue 11); in superjson's form it also carried 16 KB of annotations and was walked twice more.
 *
 * Most reads are plain JSON plus Dates, so the string is `{"d":[paths of the Dates],"j":data}`,
 * written by the native `JSON.stringify` after one walk that only looks for Dates. Anything JSON
 * cannot say exactly (undefined, NaN, ±Infinity, -0, bigint, Map, Set, an invalid Date, a class
 * instance, an object met twice, an awkward key) sends the whole value in superjson's form,
 * `{"s":…}`, so what comes back is what superjson's own round trip gives
 * (tests/web/dehydrate.test.ts).
 */
export function encodeDehydrated(data: unknown): string {
  // Rows whose JSON text their maker kept (the staff queue, protocol/transformer.ts): that text,
  // with no walk and no stringify. `JSON.stringify({ d, j })` writes exactly this.
  const known = knownJsonText(data);
  if (known) return `{"d":${JSON.stringify(known.datePaths)},"j":${known.json}}`;
  const dates: JsonPath[] = [];
  if (new DateFinder(dates).plain(data, [])) return JSON.stringify({ d: dates, j: data });
  return JSON.stringify({ s: superjson.serialize(data) });
}

export function decodeDehydrated(text: string): unknown {
  const parsed = JSON.parse(text) as { d: JsonPath[]; j: unknown } | { s: SuperJSONResult };
  if ("s" in parsed) return superjson.deserialize(parsed.s);
  for (const path of parsed.d) {
    let parent = parsed.j as Record<string | number, unknown>;
    for (let i = 0; i < path.length - 1; i++) parent = parent[path[i] as string] as typeof parent;
    const last = path[path.length - 1] as string;
    parent[last] = new Date(parent[last] as string);
  }
  return parsed.j;
}

class DateFinder {
  private readonly seen = new Set<object>();
  constructor(private readonly dates: JsonPath[]) {}

  /** Whether `JSON.parse(JSON.stringify(v))`, with the Dates put back, gives `v` exactly. */
  plain(v: unknown, path: JsonPath): boolean {
    switch (typeof v) {
      case "string":
      case "boolean":
        return true;
      case "number":
        return Number.isFinite(v) && !Object.is(v, -0);
      case "object":
        return v === null || this.object(v, path);
      default:
        return false;
    }
  }

  private object(v: object, path: JsonPath): boolean {
    if (v instanceof Date) {
      // A Date at the root has no parent to be put back into: superjson's form.
      if (path.length === 0 || Number.isNaN(v.getTime())) return false;
      this.dates.push([...path]);
      return true;
    }
    // Met twice: JSON would make two copies, superjson keeps one.
    if (this.seen.has(v)) return false;
    this.seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) return false;
        path.push(i);
        const ok = this.plain(v[i], path);
        path.pop();
        if (!ok) return false;
      }
      return true;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return false;
    for (const key of Object.keys(v)) {
      // JSON.stringify would call a "toJSON"; "__proto__" would not come back as an own key.
      if (key === "toJSON" || key === "__proto__") return false;
      path.push(key);
      const ok = this.plain((v as Record<string, unknown>)[key], path);
      path.pop();
      if (!ok) return false;
    }
    return true;
  }
}
