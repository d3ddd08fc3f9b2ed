import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { partOf, partsOf, selfCosts } from "../../bench/callgrind-parts";

// The shape callgrind writes (names compressed, a call's inclusive cost after `calls=`).
const DUMP = `# callgrind format
version: 1
positions: line
events: Ir
summary: 1000

ob=(1) /usr/bin/node
fl=(1) ???
fn=(10) v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace)
0 100
cfn=(11) v8::internal::Sweeper::RawSweep(v8::internal::Page*)
calls=1 0
0 300
fn=(11)
0 300
fn=(12) v8::internal::compiler::GraphReducer::ReduceTop()
0 250
fn=(13) Builtins_LoadIC
0 200
+1 100
* 50
`;

describe("callgrind dumps (bench/instructions.ts)", () => {
  it("counts each function's own instructions once, not a call's inclusive line", () => {
    const { total, byFunction } = selfCosts(DUMP);
    expect(total).toBe(1000);
    expect(byFunction.get("v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace)")).toBe(100);
    expect(byFunction.get("v8::internal::Sweeper::RawSweep(v8::internal::Page*)")).toBe(300);
    expect(byFunction.get("Builtins_LoadIC")).toBe(350);
    expect([...byFunction.values()].reduce((a, b) => a + b, 0)).toBe(total);
  });

  it("splits them into the collector, the compilers and the code", () => {
    expect(partsOf(DUMP)).toEqual({ total: 1000, gc: 400, compile: 250, code: 350 });
    expect(partOf("v8::internal::ConcurrentMarking::RunMajor(v8::JobDelegate*)")).toBe("gc");
    expect(partOf("v8::internal::maglev::MaglevGraphBuilder::Build()")).toBe("compile");
    expect(partOf("v8::internal::JsonStringifier::SerializeString(v8::internal::Handle<v8::internal::String>)")).toBe(
      "code",
    );
  });

  it.runIf(fs.existsSync("/usr/bin/valgrind"))("reads a real dump: its functions add up to its total", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "floorline-callgrind-test-"));
    try {
      const out = path.join(dir, "callgrind.out");
      execFileSync("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, "/bin/true"], { stdio: "pipe" });
      const { total, byFunction } = selfCosts(fs.readFileSync(out, "utf8"));
      expect(total).toBeGreaterThan(10_000);
      expect([...byFunction.values()].reduce((a, b) => a + b, 0)).toBe(total);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
