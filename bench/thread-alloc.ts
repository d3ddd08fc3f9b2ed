/**
 * `BASE=<other checkout> npx tsx bench/thread-alloc.ts`: what the web process allocates per thread
 * read (a staff member's REST page of a player's thread: the latest 50 and an older 50, as
 * `npm run bench`'s history scenario reads them) for two builds in one run (bench/two-builds.ts: A
 * from BASE, B from this checkout). Both web processes run with `--trace-gc-nvp`; each GC's
 * `allocated=` (bytes since the GC before) is summed per side and kind, so the bytes per read are
 * exact to within one GC's worth over the kind's reads. Each side's player has a thread of
 * `MESSAGES` (120) messages. After `WARMUP` (1,000) reads of each kind on each side, for each kind
 * `ROUNDS` (6) rounds of a block of `BLOCK` (500) reads on A and one on B (B first in odd rounds).
 * Prints per kind and side KB allocated per read, scavenges per 1,000 reads and those of them that
 * paused the JavaScript thread ≥ 1 ms, the server time p50 / p99 (`Server-Timing`), and the load.
 *
 * `HEAP_SAMPLE=1` also samples B's allocations while it reads (V8's sampling heap profiler through
 * the inspector, with what the scavenges collected: `--inspect` on B's web at BENCH_PORT_BASE + 9)
 * and prints the functions that allocated most, by their own allocations and by the nearest frame
 * of ours (not node_modules, not node:) on the stack.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { sendPlayerMessage } from "@/server/chat/send";
import { request, serverTiming, stats } from "./path";
import { fillThread, load, twoBuilds } from "./two-builds";

const block = Number(process.env.BLOCK ?? 500);
const rounds = Number(process.env.ROUNDS ?? 6);
const warmup = Number(process.env.WARMUP ?? 1000);
const messages = Number(process.env.MESSAGES ?? 120);
const heapSample = process.env.HEAP_SAMPLE === "1";
const inspectPort = Number(process.env.BENCH_PORT_BASE ?? 6261) + 9;

const { sides, stopAll } = await twoBuilds("alloc", (name) => [
  "--trace-gc-nvp",
  ...(heapSample && name === "B" ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
]);
type Gc = { allocated: number; scavenges: number; slowScavenges: number; others: number };
const kinds = ["latest", "older"] as const;
try {
  const bySide = [];
  for (const side of sides) {
    const { handle, player } = side;
    // The player's thread: one real send opens the chat, the rest are rows as the bench's seed writes them.
    const opened = await sendPlayerMessage(handle.db, { id: randomUUID(), text: "help", player });
    await fillThread(handle.db, opened.request, messages);
    const gc: Record<string, Gc> = {};
    const current = { kind: "warmup" };
    side.stack.web.lineListeners.add((line) => {
      const kind = /\bgc=(\S+)/.exec(line)?.[1];
      if (!kind) return;
      const into = gc[current.kind] ?? { allocated: 0, scavenges: 0, slowScavenges: 0, others: 0 };
      gc[current.kind] = into;
      into.allocated += Number(/\ballocated=(\d+)/.exec(line)?.[1] ?? 0);
      if (kind === "s") {
        into.scavenges++;
        if (Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? 0) >= 1) into.slowScavenges++;
      } else into.others++;
    });
    const base = `${side.stack.url}/api/player-chat-integration/messages/${opened.request.playerId}`;
    const paths = { latest: base, older: `${base}?before=${messages - 50}&limit=50` };
    const server: Record<string, number[]> = { latest: [], older: [] };
    const read = async (kind: (typeof kinds)[number], n: number, measured: boolean) => {
      for (let i = 0; i < n; i++) {
        const reply = await request(paths[kind], { headers: { cookie: side.member.cookie } });
        if (reply.status !== 200) throw new Error(`${side.name} ${kind}: ${reply.status} ${reply.body}`);
        const ms = serverTiming(reply);
        if (measured && ms !== null) server[kind]?.push(ms);
      }
    };
    bySide.push({ side, gc, current, read, server });
  }
  for (const s of bySide) for (const kind of kinds) await s.read(kind, warmup, false);
  const profiler = heapSample ? await startSampling(inspectPort) : null;
  for (const kind of kinds) {
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 ? [...bySide].reverse() : bySide) {
        s.current.kind = kind;
        await s.read(kind, block, true);
      }
    }
  }
  // The last GC lines come through the processes' stdout after the reads.
  await new Promise((r) => setTimeout(r, 500));
  const reads = rounds * block;
  for (const kind of kinds)
    for (const s of bySide) {
      const gc = s.gc[kind] ?? { allocated: 0, scavenges: 0, slowScavenges: 0, others: 0 };
      const t = stats(s.server[kind] ?? []);
      console.log(
        kind,
        s.side.name,
        JSON.stringify({
          reads,
          kbAllocatedPerRead: +(gc.allocated / 1024 / reads).toFixed(1),
          scavengesPer1000: +((1000 * gc.scavenges) / reads).toFixed(2),
          scavengesOver1msPer1000: +((1000 * gc.slowScavenges) / reads).toFixed(2),
          otherGcs: gc.others,
          serverMs: { p50: t.p50, p99: t.p99, max: t.max },
        }),
      );
    }
  if (profiler) printProfile(await profiler.stop(), 2 * reads);
  console.log("end", JSON.stringify({ at: new Date().toISOString(), load: load() }));
} finally {
  await stopAll();
}

type Frame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { callFrame: Frame; selfSize: number; children: ProfileNode[] };

/** V8's sampling heap profiler on the inspector at `port`, keeping what GCs collected too. */
async function startSampling(port: number) {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = list[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error("no inspector target");
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let next = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("HeapProfiler.startSampling", {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return {
    async stop() {
      const result = (await send("HeapProfiler.stopSampling")) as { profile: { head: ProfileNode } };
      ws.close();
      return result.profile.head;
    },
  };
}

/** The top allocators, by own frame and by the nearest frame of ours; bytes per read (sampled). */
function printProfile(head: ProfileNode, reads: number) {
  const own = new Map<string, number>();
  const ours = new Map<string, number>();
  const name = (f: Frame) =>
    `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(node_modules\/)/, "$1")}:${f.lineNumber + 1}`;
  const isOurs = (f: Frame) => /\/(server|protocol|db|app)\//.test(f.url) && !f.url.includes("node_modules");
  const walk = (node: ProfileNode, ourFrame: string) => {
    const frame = isOurs(node.callFrame) ? name(node.callFrame) : ourFrame;
    own.set(name(node.callFrame), (own.get(name(node.callFrame)) ?? 0) + node.selfSize);
    ours.set(frame, (ours.get(frame) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, frame);
  };
  walk(head, "(none of ours)");
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([k, v]) => `  ${(v / 1024 / reads).toFixed(2).padStart(7)} KB/read  ${k}`)
      .join("\n");
  console.log(`B, sampled, by own frame:\n${top(own)}\nB, sampled, by nearest frame of ours:\n${top(ours)}`);
}
