/**
 * `npm run soak [-- --minutes N]`: simulated players and staff against the app as real processes,
 * with random faults (realtime and web SIGKILL + restart, Postgres stopped), then the invariants.
 * Needs the production build (`npm run build`) and Postgres server binaries (initdb, pg_ctl).
 * Ports: SOAK_PORT_BASE (default 6241) for Postgres, +1 realtime, +2 web.
 */
import { formatReport, runSoak } from "../tests/support/soak";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const minutes = Number(arg("minutes") ?? process.env.SOAK_MINUTES ?? 1);
const report = await runSoak({
  durationMs: minutes * 60_000,
  basePort: Number(process.env.SOAK_PORT_BASE ?? 6241),
  players: Number(arg("players") ?? 8),
  staff: Number(arg("staff") ?? 3),
  log: (line) => console.log(line),
});
console.log(formatReport(report));
process.exit(report.ok ? 0 : 1);
