import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveries, quietRoundTrips } from "@/bench/path";

/** A stand-in for the web server: `chat.me` answers 200 for the right cookie, `chat.send` stores by id. */
let server: http.Server;
let base = "";
const sent: { id: string; cookie?: string }[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      if (req.headers.cookie !== "s=1") return res.writeHead(401).end("{}");
      if (req.url?.endsWith("/chat.send")) sent.push({ id: JSON.parse(body).json.id, cookie: req.headers.cookie });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

describe("sequential round trips from a quiet client (bench/round-trips.mjs)", () => {
  it("times each request in its own process and leaves each send pending until the sockets have it", async () => {
    const toStaff = deliveries(1);
    const trips = await quietRoundTrips({ base, cookie: "s=1", n: 3, toStaff });
    expect(trips.meTrip.n).toBe(3);
    expect(trips.sendTrip.n).toBe(3);
    expect(sent).toHaveLength(3);
    expect(toStaff.counts.acknowledged).toBe(3);
    // Acknowledged, not yet on a socket: pending (lost if they never come).
    expect(toStaff.lostIds().sort()).toEqual(sent.map((s) => s.id).sort());
    for (const s of sent) toStaff.arrived(s.id, 0);
    expect(toStaff.lostIds()).toEqual([]);
  });

  it("fails the run when a round trip is refused, as the bench's own loop did", async () => {
    const toStaff = deliveries(1);
    await expect(quietRoundTrips({ base, cookie: "wrong", n: 2, toStaff })).rejects.toThrow(/round trip failed/);
  });
});
