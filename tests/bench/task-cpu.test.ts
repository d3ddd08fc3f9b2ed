import fs from "node:fs";
import os from "node:os";
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
    const threads = () => fs.readdirSync(`/proc/${process.pid}/task`).sort().join(" ");
    // The sum is over the threads alive at each reading: a thread of this process that ends in
    // between takes its CPU out of it (getrusage and stat keep it). Such a span measures nothing;
    // it is taken again.
    for (let attempt = 1; ; attempt++) {
      const before = threads();
      const [task0, stat0, own0] = [taskCpuMs(process.pid), stat(), process.cpuUsage()];
      burn(3);
      const task1 = taskCpuMs(process.pid);
      burn(200);
      const [task2, stat2, own] = [taskCpuMs(process.pid), stat(), process.cpuUsage(own0)];
      if (threads() !== before && attempt < 5) continue;
      expect(threads(), "a thread ended in each of 5 spans").toBe(before);
      // Not a multiple of a tick: the reading has sub-millisecond resolution.
      expect((task1 - task0) % 10).not.toBe(0);
      // At least what getrusage counted over the same span, less what a reading can lag: a running
      // thread's schedstat is brought up to date at the scheduler's next tick (≤ 10 ms), and as
      // many threads as cores can be running (seen in CI over a 3 ms span: 7.8 ms against 14.5).
      const lagMs = 10 * os.availableParallelism();
      expect(task2 - task0).toBeGreaterThanOrEqual((own.user + own.system) / 1000 - lagMs);
      // Over the same span the two /proc readings agree within a few ticks.
      expect(Math.abs(task2 - task0 - (stat2 - stat0))).toBeLessThan(60);
      return;
    }
  });

  it("is an error for a process that does not exist, never 0", () => {
    expect(() => taskCpuMs(2 ** 22 + 1)).toThrow(/ENOENT/);
  });
});
