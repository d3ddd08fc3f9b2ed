import { execFileSync } from "node:child_process";
import os from "node:os";

/** The commit a bench runs on, for its result lines; an exported tree (git archive) has none: its folder. */
export const commit = (() => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return process.cwd();
  }
})();

/** The load average (1, 5, 15 min), two decimals: an A/B reports it with each run. */
export const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
