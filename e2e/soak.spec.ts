import { expect, test } from "@playwright/test";
import { formatReport, runSoak } from "../tests/support/soak";

/**
 * The short run of `npm run soak` that belongs in the suite: simulated players and staff with a
 * fault every few seconds (realtime or web killed, Postgres stopped), then every invariant.
 */
test("soak: simulated players and staff through random faults keep every invariant", async () => {
  test.setTimeout(240_000);
  const report = await runSoak({
    durationMs: Number(process.env.E2E_SOAK_SECONDS ?? 25) * 1000,
    basePort: Number(process.env.E2E_SOAK_PORT_BASE ?? 6251),
    players: 4,
    staff: 2,
    faultEveryMs: 5000,
  });
  console.log(formatReport(report));
  expect(report.faults.length).toBeGreaterThan(0);
  expect(report.acknowledged).toBeGreaterThan(0);
  expect(report.invariants.filter((i) => !i.ok)).toEqual([]);
});
