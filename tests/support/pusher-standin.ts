import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type StandInEvent = { channel: string; name: string; data: string };

/**
 * A local stand-in for hosted Pusher's batch API (`POST /apps/{id}/batch_events`) whose answers
 * the test controls: while held, every request waits unanswered (a far-away cluster with a long
 * round trip, without timing anything); `release()` answers them and every later one at once.
 * It records what it took and how many requests it had open at most; `refuse(status)` makes it
 * refuse every later request instead.
 */
export async function startPusherStandIn() {
  const events: StandInEvent[] = [];
  const open: ServerResponse[] = [];
  const state = { held: true, maxOpen: 0, refusing: 0, requests: 0 };
  const answer = (res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (
        req.method !== "POST" ||
        !/^\/apps\/[^/]+\/batch_events$/.test(new URL(req.url ?? "/", "http://x").pathname)
      ) {
        res.writeHead(404).end();
        return;
      }
      state.requests++;
      if (state.refusing) {
        res.writeHead(state.refusing, { "content-type": "application/json" });
        res.end('{"error":"refused"}');
        return;
      }
      const { batch } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { batch: StandInEvent[] };
      events.push(...batch);
      if (!state.held) return answer(res);
      open.push(res);
      state.maxOpen = Math.max(state.maxOpen, open.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    /** Every event taken, in the order requests arrived. */
    events,
    /** Requests waiting for their answer now. */
    get open() {
      return open.length;
    },
    /** Publish requests received, refused ones included. */
    get requests() {
      return state.requests;
    },
    /** The most requests that waited for their answer at once. */
    get maxOpen() {
      return state.maxOpen;
    },
    /** Answers every later request with this status at once and takes none of its events (a wrong secret: 401). */
    refuse(status: number) {
      state.refusing = status;
    },
    /** Answers the request that has waited longest; later ones still wait. */
    answerOldest() {
      const res = open.shift();
      if (res) answer(res);
    },
    release() {
      state.held = false;
      for (const res of open.splice(0)) answer(res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
