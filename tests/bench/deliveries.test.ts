import { describe, expect, it } from "vitest";
import { deliveries, type Parts, type Reply } from "@/bench/path";
import { type ProbeLog, tails } from "@/bench/tails";

const stored = async () => ({ status: 200, body: "{}", headers: {} });

describe("the bench's delivery accounting", () => {
  it("counts a message delivered once every socket has it, not once it arrived as many times", async () => {
    // A send the bench made twice (connection reset) is published twice: each socket may get two copies.
    const toStaff = deliveries(2);
    const done: Parts[] = [];
    await toStaff.send("m1", stored, (p) => done.push(p));
    toStaff.arrived("m1", 0);
    toStaff.arrived("m1", 0);
    await toStaff.drained(0);
    expect(done).toEqual([]);
    expect(toStaff.lostIds()).toEqual(["m1"]);

    toStaff.arrived("m1", 1);
    expect(done).toHaveLength(1);
    expect(toStaff.lostIds()).toEqual([]);
  });

  it("keeps what went wrong with a send whose request failed, so a run can say why it was never answered", async () => {
    const toStaff = deliveries(1);
    const failed = () => Promise.reject(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    const outcome = await toStaff.send("m1", failed);
    expect(outcome.kind).toBe("unanswered");
    expect(toStaff.counts.unanswered).toBe(1);
    expect(toStaff.unansweredErrors).toEqual(["EPIPE: write EPIPE"]);
    expect(toStaff.lostIds()).toEqual([]);
  });
});

describe("a delivery taken apart", () => {
  const answered = async () => ({ status: 200, body: "{}", headers: { "server-timing": "app;dur=1.500" } });

  it("gives the answer, the server's own time and the first and last socket, in order", async () => {
    const toStaff = deliveries(2);
    const parts: Parts[] = [];
    await toStaff.send("m1", answered, (p) => parts.push(p));
    toStaff.arrived("m1", 0);
    toStaff.arrived("m1", 1);
    const [p] = parts;
    expect(p?.server).toBe(1.5);
    expect(p?.ack).not.toBeNull();
    expect(p?.first).toBeGreaterThanOrEqual(p?.ack ?? Number.NaN);
    expect(p?.last).toBeGreaterThanOrEqual(p?.first ?? Number.NaN);
  });

  it("is the one record of a delivery: its time is the last socket's, measured from the send", async () => {
    // The scenarios keep only the parts and take their durations from `last`: no second array.
    const toStaff = deliveries(1);
    const parts: Parts[] = [];
    const before = performance.now();
    await toStaff.send("m1", answered, (p) => parts.push(p));
    toStaff.arrived("m1", 0);
    const upper = performance.now() - before;
    expect(parts).toHaveLength(1);
    expect(typeof parts[0]?.last).toBe("number");
    expect(parts[0]?.last).toBeGreaterThanOrEqual(0);
    expect(parts[0]?.last).toBeLessThanOrEqual(upper + 0.001);
  });

  it("says the answer was not there yet when every socket had the event first", async () => {
    const toStaff = deliveries(1);
    const parts: Parts[] = [];
    let answer: (r: Reply) => void = () => {};
    const sent = toStaff.send(
      "m1",
      () => new Promise<Reply>((r) => (answer = r)),
      (p) => parts.push(p),
    );
    toStaff.arrived("m1", 0);
    answer({ status: 200, body: "{}", headers: {} });
    await sent;
    expect(parts.map((p) => p.ack)).toEqual([null]);
  });
});

describe("the slowest 1 % against the median", () => {
  const sample = (at: number, last: number): Parts => ({ at, ack: last / 2, server: 1, first: last - 1, last });

  it("takes the slowest 1 % and counts which overlapped a process's pause, and in which second they started", () => {
    const from = 1_000_000;
    // 200 samples, one every 100 ms: two slow ones (1 %), both in second 3.
    const samples = Array.from({ length: 200 }, (_, i) => sample(from + i * 100, i === 30 || i === 31 ? 100 : 5));
    const web: ProbeLog = { gcs: [{ gc: "minor", t: from + 3080, ms: 40 }], stalls: [], eld: [] };
    const t = tails(samples, { web, bench: { gcs: [], stalls: [], eld: [] } }, from);
    expect(t?.slowest1pc.n).toBe(2);
    expect(t?.slowest1pc.total).toBe(100);
    expect(t?.median.total).toBe(5);
    expect(t?.slowOverlapping).toEqual({ web: { gc: 2, stall: 0 }, bench: { gc: 0, stall: 0 } });
    expect(t?.slowOverlappingNothing).toBe(0);
    expect(t?.slowBySecond).toEqual({ 3: 2 });
  });
});
