import fs from "node:fs";
import path from "node:path";

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number };

/**
 * The functions with the most self time in the busiest `--cpu-prof` profile written to `dir` since
 * `since` (the web process writes one per thread; tsx's loader has one): the server's.
 */
export function printTopSelfTime(dir: string, since: number, top: number) {
  const busy = (nodes: Node[]) =>
    nodes.filter((n) => n.callFrame.functionName !== "(idle)").reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const written = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile") && fs.statSync(path.join(dir, f)).mtimeMs >= since)
    .map((f) => ({
      file: path.join(dir, f),
      nodes: (JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as { nodes: Node[] }).nodes,
    }))
    .sort((a, b) => busy(b.nodes) - busy(a.nodes));
  const picked = written[0];
  if (!picked) throw new Error("no profile written");
  const total = picked.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0);
  const byFrame = new Map<string, number>();
  for (const n of picked.nodes) {
    const where = n.callFrame.url.replace(/^.*node_modules\//, "").replace(/^.*\.next\//, ".next/");
    const key = `${n.callFrame.functionName || "(anonymous)"} ${where}:${n.callFrame.lineNumber + 1}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + (n.hitCount ?? 0));
  }
  console.log(`profile: ${path.relative(process.cwd(), picked.file)} (${total} samples); self time, top ${top}:`);
  for (const [key, hits] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * hits) / total).toFixed(1).padStart(5)} %  ${key}`);
  }
}
