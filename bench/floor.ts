/**
 * The floor the real path is compared with, in its own process: bare `node:http` → one INSERT
 * into Postgres → the JSON broadcast to every bare `ws` client. No auth, no framework, no
 * sequence. `tsx bench/floor.ts <port, 0 = any free one> <database url>`; prints "floor on <port>" when ready.
 */
import http from "node:http";
import pg from "pg";
import { WebSocketServer } from "ws";

const port = Number(process.argv[2]);
const pool = new pg.Pool({ connectionString: process.argv[3], max: 20 });
await pool.query(
  "CREATE TABLE IF NOT EXISTS bench_floor (id uuid PRIMARY KEY, text text NOT NULL, at timestamptz NOT NULL DEFAULT now())",
);

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", async () => {
    try {
      const { id, text } = JSON.parse(body) as { id: string; text: string };
      const { rows } = await pool.query("INSERT INTO bench_floor (id, text) VALUES ($1, $2) RETURNING at", [id, text]);
      const frame = JSON.stringify({ event: "message", data: JSON.stringify({ id, message: text, at: rows[0].at }) });
      for (const client of wss.clients) client.send(frame);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ success: true, id }));
    } catch {
      res.writeHead(400).end();
    }
  });
});
const wss = new WebSocketServer({ server });
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(`floor on ${typeof address === "object" && address ? address.port : port}`);
});
process.on("SIGTERM", () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
