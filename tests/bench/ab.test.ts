import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

// `npx tsx bench/ab.ts` at toy size, so the tool cannot rot: both sides this checkout (its
// production build: run `npm run build` first), two stacks at once. Numbers are printed, never
// asserted; what is asserted is that every request was answered 200 and both sides reported.
it("bench/ab.ts runs both sides in alternated blocks and reports each side and their difference", async () => {
  const basePort = Number(process.env.E2E_BENCH_PORT_BASE ?? 6271) + 30;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "bench/ab.ts"], {
    cwd: root,
    env: { ...process.env, BASE: root, BENCH_PORT_BASE: String(basePort), ROUNDS: "2", BLOCK: "2", WARMUP: "2" },
    timeout: 150_000,
  });
  console.log(stdout);
  const lines = stdout.split("\n");
  const json = (prefix: string) => {
    const line = lines.find((l) => l.startsWith(`${prefix} {`));
    expect(line, prefix).toBeDefined();
    return JSON.parse(line?.slice(prefix.length + 1) ?? "null");
  };
  for (const kind of ["chat.me", "chat.send", "staff.reply"]) {
    for (const side of ["A", "B"]) {
      // Two rounds of two requests on each side, every one answered 200, each block's CPU read.
      const result = json(`${kind} ${side}`);
      expect(result).toMatchObject({ n: 4, failed: 0, blocks: 2 });
      for (const key of ["cpuMeanMs", "cpuBlockMedianMs", "serverP50", "roundTripP50"])
        expect(result[key], `${kind} ${side} ${key}`).toEqual(expect.any(Number));
    }
    expect(json(`${kind} B − A`)).toMatchObject({
      median: expect.any(Number),
      mean: expect.any(Number),
      bLowerIn: expect.any(Number),
      bHigherIn: expect.any(Number),
      of: 2,
    });
  }
}, 180_000);
