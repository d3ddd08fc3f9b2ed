import { describe, expect, it } from "vitest";
import { medianParts, partsOf, type RequestLine } from "@/bench/request-parts";

// A probe line as bench/probe.mjs writes it: a page read whose session refresh went out beside it.
const line: RequestLine = {
  req: "latest/second/7",
  t: 1_000_010,
  ms: 6,
  cpu: 1.5,
  main: { run: 1.2, wait: 2, n: 3 },
  q: [
    { name: "session_by_token", pool: 0.4, at: 0.5, ms: 1, pg: { run: 0.3, wait: 0.1, n: 1 } },
    {
      name: "thread_page_with_reader",
      pool: 0.6,
      at: 0.7,
      ms: 4.5,
      pg: { run: 0.5, wait: 1.5, n: 1 },
      main: { run: 0.4, wait: 1.25, n: 2 },
    },
  ],
};

describe("a history read taken apart (bench/request-parts.ts)", () => {
  it("splits the server time by the probe's line and the bench's send and answer times", () => {
    const parts = partsOf(line, 1_000_009, 1_000_017.5, 10);
    expect(parts).toMatchObject({
      id: "latest/second/7",
      server: 6,
      toWeb: 1,
      back: 1.5,
      mainRun: 1.2,
      mainWait: 2,
      mainSlices: 3,
      queries: 2,
      db: 5.5,
      pgRun: 0.8,
      pgWait: 1.6,
      beforeDb: 0.5,
      // 6 − (0.7 + 4.5): from the last query's answer to writing the page
      afterDb: 0.8,
      steal: 10,
    });
    // Only the page's query recorded the web thread's own account: no sum over the others.
    expect(parts.webWaitInDb).toBeNull();
  });

  it("leaves out a query still in flight at the answer, and gives null where a part was unreadable", () => {
    const pending = { ...line, main: null, q: [{ name: "session_by_token", pool: null, at: 0.5 }] };
    expect(partsOf(pending, 1_000_009, 1_000_017.5, null)).toMatchObject({
      queries: 1,
      db: 0,
      pgRun: 0,
      mainRun: null,
      afterDb: null,
      steal: null,
    });
  });

  it("takes each part's median over the samples that have it", () => {
    const a = partsOf(line, 1_000_009, 1_000_017.5, 0);
    const b = partsOf({ ...line, ms: 2, main: null }, 1_000_009, 1_000_017.5, 0);
    const c = partsOf({ ...line, ms: 4 }, 1_000_009, 1_000_017.5, 0);
    expect(medianParts([a, b, c])).toMatchObject({ server: 4, mainRun: 1.2 });
  });
});
