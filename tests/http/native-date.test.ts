import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { restoreNativeDate } from "@/server/http/native-date";

const require = createRequire(import.meta.url);
const nativeDate = globalThis.Date;
/** Next.js's clock wrapper as `next start` installs it (once per module registry: loaded fresh each time). */
function installNextDate() {
  const file = require.resolve("next/dist/server/node-environment-extensions/date.js");
  delete require.cache[file];
  require(file);
}

describe("restoreNativeDate", () => {
  afterEach(() => {
    globalThis.Date = nativeDate;
    Object.defineProperty(nativeDate.prototype, "constructor", {
      value: nativeDate,
      writable: true,
      configurable: true,
    });
  });

  it("puts the engine's Date back over Next.js's wrapper when cacheComponents is off", () => {
    installNextDate();
    expect(globalThis.Date).not.toBe(nativeDate);
    expect(restoreNativeDate(nativeDate, {})).toBe(true);
    expect(globalThis.Date).toBe(nativeDate);
    expect(new Date(0).constructor).toBe(nativeDate);
    expect(new Date("2026-11-27T17:20:00.123Z").toISOString()).toBe("2026-11-27T17:20:00.123Z");
    expect(new Date(0) instanceof Date).toBe(true);
  });

  it("leaves Next.js's wrapper in place when cacheComponents is on (it reads the clock as I/O there)", () => {
    installNextDate();
    const wrapped = globalThis.Date;
    expect(restoreNativeDate(nativeDate, { cacheComponents: true })).toBe(false);
    expect(globalThis.Date).toBe(wrapped);
  });
});
