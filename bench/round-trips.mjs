/**
 * The bench's sequential round trips, measured from a client that does nothing else (issue 11, "A
 * quiet client" in bench/README.md): the bench process holds the staff and players' sockets, and
 * in about a third of its sends it read those sockets' frames (the send's own events) before the
 * answer. A player's browser does not: its answer and the staff's sockets are on other machines.
 * Reads `{ base, cookie, n, sendIds }` as JSON on stdin, does `n` `chat.me` then one `chat.send`
 * per id, one at a time on one keep-alive connection, and writes
 * `{ me: ms[], send: ms[], outcomes: [{ id, kind, status?, error?, resent? }] }` on stdout.
 * Plain JS and node:http only, so the process is small and starts without tsx.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";

// One connection, kept alive (as a browser keeps one to the site); idle far less than the server's 5 s.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function once(url, init) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? "GET", headers: init.headers, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** Tried once more when the kept-alive connection was reset as the server closed it (as bench/path.ts `request`). */
const request = (url, init = {}) =>
  once(url, init).catch((err) => {
    if (err.code !== "ECONNRESET") throw err;
    return once(url, init).then((r) => ({ ...r, resent: true }));
  });

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { base, cookie, n, sendIds } = JSON.parse(input);
const me = () => request(`${base}/api/trpc/chat.me`, { headers: { cookie } });
const send = (id, i) =>
  request(`${base}/api/trpc/chat.send`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json", origin: base },
    body: JSON.stringify({ json: { id, text: `bench round trip ${i}` } }),
  });

// Opens the connection before the clock starts: the bench's own agent had it open from the closed loops.
await me();
const meTimes = [];
for (let i = 0; i < n; i++) {
  const t = performance.now();
  const r = await me();
  meTimes.push(performance.now() - t);
  if (r.status !== 200) break; // the parent fails the run: fewer times than asked
}
const sendTimes = [];
const outcomes = [];
for (const [i, id] of sendIds.entries()) {
  const t = performance.now();
  try {
    const r = await send(id, i);
    sendTimes.push(performance.now() - t);
    outcomes.push({ id, kind: r.status >= 200 && r.status < 300 ? "acknowledged" : "refused", ...r });
  } catch (err) {
    outcomes.push({ id, kind: "unanswered", error: `${err.code ?? "no code"}: ${err.message}` });
  }
  if (outcomes.at(-1).kind !== "acknowledged") break;
}
agent.destroy();
process.stdout.write(JSON.stringify({ me: meTimes, send: sendTimes, outcomes }));
