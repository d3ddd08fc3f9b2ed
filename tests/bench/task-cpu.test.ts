import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { statCpuMs, taskCpuMs } from "../../bench/scenarios";

/** Spins this thread until `ms` of its own CPU time have passed. */
function burn(ms: number) {
  const start = process.cpuUsage();
  let x = 0;
  while (true) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(i);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return x;
  }
}

describe("taskCpuMs (bench/ab.ts's CPU per block)", () => {
  it("counts this process's CPU finer than /proc stat's 10 ms ticks, and agrees with it", () => {
    const stat = () => statCpuMs(fs.readFileSync(`/proc/${process.pid}/stat`, "utf8"));
    const [task0, stat0, own0] = [taskCpuMs(process.pid), stat(), process.cpuUsage()];
    burn(3);
    const task1 = taskCpuMs(process.pid);
    const own = process.cpuUsage(own0);
    const ownMs = (own.user + own.system) / 1000;
    // Not a multiple of a tick: the reading has sub-millisecond resolution.
    expect((task1 - task0) % 10).not.toBe(0);
    // At least what getrusage counted over the same span, give or take its own rounding.
    expect(task1 - task0).toBeGreaterThanOrEqual(ownMs * 0.9);
    burn(200);
    // Over a longer span the two /proc readings agree within a few ticks.
    expect(Math.abs(taskCpuMs(process.pid) - task0 - (stat() - stat0))).toBeLessThan(60);
  });

  it("is an error for a process that does not exist, never 0", () => {
    expect(() => taskCpuMs(2 ** 22 + 1)).toThrow(/ENOENT/);
  });
});
