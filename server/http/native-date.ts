/**
 * The engine's `Date`, as it was before Next.js loaded: import this module before `next`.
 *
 * Next.js replaces the global `Date` when its server loads (next/dist/server/node-environment-extensions/date.js)
 * with a wrapper that asks two AsyncLocalStorages whether a prerender is reading the clock, on every
 * `Date.now()` and `new Date()` of the process, and builds every other `new Date(x)` through
 * `Reflect.construct` with its `arguments`: about 2 % of a lone send's web CPU (the rows' timestamps
 * drizzle parses, the session cache's clock, the publish's signature), and more for a page of 50
 * messages (bench/README.md "Next.js's clock wrapper"). The wrapper acts only for `cacheComponents`
 * (its prerenders and staged renders); without it every check finds nothing to do.
 */
export const nativeDate = globalThis.Date;

/**
 * Puts the engine's `Date` back (the global and `Date.prototype.constructor`) when the app does not
 * use `cacheComponents`, where Next.js's wrapper does nothing; true when it did. Call it once Next.js
 * has loaded its page runtimes (serve.ts: after the warm-up), which install the wrapper again.
 */
export function restoreNativeDate(original: DateConstructor, config: { cacheComponents?: boolean }): boolean {
  if (config.cacheComponents) return false;
  globalThis.Date = original;
  Object.defineProperty(original.prototype, "constructor", { value: original, writable: true, configurable: true });
  return true;
}
