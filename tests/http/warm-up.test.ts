import type http from "node:http";
import net from "node:net";
import { sql } from "drizzle-orm";
import { Client } from "pg";
import { describe, expect, it, vi } from "vitest";
import { connectPostgres, type Db, type DbHandle, rowsOf } from "@/db/client";
import { migrate } from "@/db/migrate";
import type { Auth } from "@/server/auth";
import type { OutgoingEvent } from "@/server/chat/announce";
import { parseChannel, playerChannel, STAFF_CHANNEL, WARM_UP_CHANNEL } from "@/server/chat/channels";
import { silentGateway } from "@/server/chat/gateway";
import type { HttpDeps } from "@/server/http/deps";
import { serveApi } from "@/server/http/node-bridge";
import { QUEUE_ROUNDS, THREAD_ROUNDS, WARM_UP_THREAD, warmUp } from "@/server/http/warm-up";
import { createPublisher } from "@/server/realtime/publisher";
import { authorizeChannel } from "@/server/realtime-auth";
import { cachedSession, heldSessionCount } from "@/server/session-cache";
import { WARM_UP_HEADER, warmUpSession } from "@/server/warm-up-caller";
import { freshPostgresDatabase, openTestDb, type TestDbKind, testDbKinds } from "../support/db";
import { httpTestDeps, signInCookie } from "../support/http";
import { APP, connectClient, startRealtime, subscribed } from "../support/realtime";

/** Every read of a session's row by its token (session-row.ts), passed through: its token and whether it found one. */
const rowReads = vi.hoisted(() => [] as Array<{ token: string; found: boolean }>);
vi.mock("@/server/session-row", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/server/session-row")>();
  return {
    ...original,
    sessionByToken: async (...args: Parameters<typeof original.sessionByToken>) => {
      const row = await original.sessionByToken(...args);
      rowReads.push({ token: args[1], found: row !== null });
      return row;
    },
  };
});

/**
 * A stand-in for serve.ts's listener: records what it was asked (and as whom: the warm-up's
 * caller, "staff" or "player", or nobody) and answers 401 like an anonymous caller.
 */
function recordingHandler() {
  const asked: string[] = [];
  const handler: http.RequestListener = (req, res) => {
    const as = String(req.headers[WARM_UP_HEADER] ?? "").split(".")[0];
    asked.push(`${req.method} ${req.url}${as ? ` as ${as}` : ""}`);
    res.writeHead(401, { "content-type": "application/json" }).end("{}");
  };
  return { asked, handler };
}

describe("warm-up before the web server listens", () => {
  it("opens every pool connection and answers each kind of request through the real handler, anonymous and signed in", async () => {
    let queries = 0;
    const deps = async () => ({ db: { execute: async () => void queries++ } }) as unknown as HttpDeps;
    const { asked, handler } = recordingHandler();
    await warmUp(handler, deps, {
      poolSize: 4,
      pages: ["/sign-in"],
      signedInPages: { staff: ["/staff"], player: ["/player"] },
    });
    expect(queries).toBe(4);
    expect(new Set(asked)).toEqual(
      new Set([
        "GET /sign-in",
        "GET /api/trpc/chat.me",
        "POST /api/trpc/chat.send",
        "POST /api/realtime/auth",
        "POST /api/realtime/user-auth",
        "GET /api/player-chat-integration/messages/1?sinceSeq=0",
        "GET /api/auth/get-session",
        "GET /staff as staff",
        "GET /api/trpc/staff.queue as staff",
        "GET /api/trpc/staff.me as staff",
        "POST /api/trpc/staff.reply as staff",
        "POST /api/player-chat-integration/send as staff",
        "POST /api/unified-chat/send as staff",
        "POST /api/realtime/auth as staff",
        "POST /api/realtime/user-auth as staff",
        "GET /player as player",
        "GET /api/trpc/chat.me as player",
        "POST /api/trpc/chat.send as player",
        "POST /api/unified-chat/send as player",
        "POST /api/realtime/auth as player",
        `GET ${WARM_UP_THREAD} as staff`,
        `GET ${WARM_UP_THREAD}?before=2&limit=50 as staff`,
      ]),
    );
  });

  // The queue is the one signed-in read whose rows are many (~120 at 1,000,000 messages): three rounds
  // left its decoding and serialising to be optimised by the first real requests after a start.
  it("asks the staff queue, signed in as staff, QUEUE_ROUNDS times more than the other signed-in requests", async () => {
    const { asked, handler } = recordingHandler();
    await warmUp(handler, noDatabase, {
      poolSize: 0,
      pages: [],
      signedInPages: { staff: ["/staff"], player: [] },
      rounds: 2,
    });
    const times = (what: string) => asked.filter((a) => a === what).length;
    expect(times("GET /api/trpc/staff.me as staff")).toBe(2);
    expect(times("GET /staff as staff")).toBe(2);
    expect(times("GET /api/trpc/staff.queue as staff")).toBe(2 + QUEUE_ROUNDS);
  });

  // The thread page is read a thousand times per pass by the bench: its first pass after a start
  // paid V8's compiles of the route's own code (bench/README.md "A thread read's first pass").
  it("reads a thread page, latest and older, signed in as staff, THREAD_ROUNDS times each", async () => {
    const { asked, handler } = recordingHandler();
    await warmUp(handler, noDatabase, { poolSize: 0, pages: [], signedInPages: { staff: [], player: [] }, rounds: 1 });
    const times = (what: string) => asked.filter((a) => a === what).length;
    expect(times(`GET ${WARM_UP_THREAD} as staff`)).toBe(THREAD_ROUNDS);
    expect(times(`GET ${WARM_UP_THREAD}?before=2&limit=50 as staff`)).toBe(THREAD_ROUNDS);
  });

  it("accepts its own caller only while it runs, and only with its secret", async () => {
    const seen: { headers: Headers; during: unknown; forged: unknown }[] = [];
    const handler: http.RequestListener = (req, res) => {
      const headers = new Headers(req.headers as Record<string, string>);
      if (headers.has(WARM_UP_HEADER)) {
        const [role] = String(headers.get(WARM_UP_HEADER)).split(".");
        // A client (or another process on the private port) that knows the header but not the secret.
        const forged = new Headers({ [WARM_UP_HEADER]: `${role}.${Buffer.alloc(32, 1).toString("base64url")}` });
        seen.push({ headers, during: warmUpSession(headers)?.user.role, forged: warmUpSession(forged) });
      }
      res.writeHead(401).end();
    };
    await warmUp(handler, noDatabase, { poolSize: 0, pages: [], signedInPages: { staff: ["/staff"], player: [] } });
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((s) => s.during))).toEqual(new Set(["staff", "player"]));
    expect(seen.map((s) => s.forged)).toEqual(seen.map(() => null));
    // After the warm-up (when serve.ts starts listening) its very own headers are nobody's:
    // neither the check itself nor the session checks the transports make accept them.
    const askedAuth = vi.fn(async () => null);
    const auth = { api: { getSession: askedAuth } } as unknown as Auth;
    for (const { headers } of seen) {
      expect(warmUpSession(headers)).toBeNull();
      expect(await cachedSession(auth, headers)).toBeNull();
    }
  });

  it("is closed again when the warm-up fails on the way", async () => {
    let headers: Headers | undefined;
    const handler: http.RequestListener = (req, res) => {
      if (req.headers[WARM_UP_HEADER]) headers ??= new Headers(req.headers as Record<string, string>);
      if (req.url === "/staff") req.socket.destroy();
      else res.writeHead(401).end();
    };
    await warmUp(handler, noDatabase, { poolSize: 0, pages: [], signedInPages: { staff: ["/staff"], player: [] } });
    expect(headers).toBeDefined();
    expect(warmUpSession(headers as Headers)).toBeNull();
  });

  it("never stops a start: a database that fails here only makes the first minute slower", async () => {
    const { asked, handler } = recordingHandler();
    const deps = async () => {
      throw new Error("database not there");
    };
    await expect(warmUp(handler, deps, { poolSize: 4, pages: ["/sign-in"] })).resolves.toBeUndefined();
    expect(asked).toEqual([]);
  });

  it("closes its private port when a request fails on the way (the handler drops the connection)", async () => {
    let port = 0;
    const handler: http.RequestListener = (req, res) => {
      port = req.socket.localPort ?? 0;
      if (req.url === "/api/trpc/chat.me") req.socket.destroy();
      else res.writeHead(401).end();
    };
    await warmUp(handler, noDatabase, { poolSize: 0, pages: [] });
    expect(port).not.toBe(0);
    await expect(connects(port)).resolves.toBe(false);
  });

  it("never holds the start for a request that is never answered", async () => {
    let port = 0;
    const handler: http.RequestListener = (req, res) => {
      port = req.socket.localPort ?? 0;
      if (req.url !== "/api/auth/get-session") res.writeHead(401).end();
    };
    await expect(warmUp(handler, noDatabase, { poolSize: 0, pages: [], timeoutMs: 200 })).resolves.toBeUndefined();
    await expect(connects(port)).resolves.toBe(false);
  });

  it("never holds the start for a database that takes the connection and never answers", async () => {
    // A stand-in for a Postgres that accepts connections and says nothing (a hung server, a
    // proxy whose backend is gone): the pool's connections and their `select 1` wait for ever.
    const held = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      held.add(socket);
      socket.on("close", () => held.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as net.AddressInfo;
    const handle = connectPostgres(`postgres://nobody@127.0.0.1:${port}/none`, 2);
    try {
      const { asked, handler } = recordingHandler();
      const deps = async () => ({ db: handle.db }) as unknown as HttpDeps;
      await expect(warmUp(handler, deps, { poolSize: 2, pages: [], timeoutMs: 200 })).resolves.toBeUndefined();
      expect(asked).toEqual([]);
    } finally {
      // Dropping the connections fails the pool's waiting connects, so the pool can end.
      for (const socket of held) socket.destroy();
      silent.close();
      await handle.close();
    }
  });
});

describe.each(testDbKinds)("the warm-up's signed-in requests on %s", (kind: TestDbKind) => {
  it("get past the session check into the real handlers, and change no row and publish nothing", async () => {
    const handle = await openTestDb(kind);
    try {
      const published: OutgoingEvent[][] = [];
      const deps = {
        ...(await httpTestDeps(handle)),
        realtime: { ...silentGateway, publish: (events: OutgoingEvent[]) => void published.push(events) },
      };
      const before = await contents(handle.db);
      // The session check the warm-up's caller skips is run with a cookie for a session nobody
      // has, as pages and tRPC run it (its row read by its token) and as better-auth's own
      // /get-session does: looked up, not found.
      const { internalAdapter } = await deps.auth.$context;
      const lookUp = vi.spyOn(internalAdapter, "findSession");
      const rowRead = vi.spyOn(deps.auth, "sessionByToken");
      const answered: string[] = [];
      const handler: http.RequestListener = (req, res) => {
        const as = String(req.headers[WARM_UP_HEADER] ?? "").split(".")[0] || (req.headers.cookie && "nobody");
        if (as) res.once("finish", () => answered.push(`${req.method} ${req.url} as ${as}: ${res.statusCode}`));
        void serveApi(req, res, async () => deps);
      };
      await warmUp(handler, async () => deps, {
        poolSize: 0,
        pages: [],
        signedInPages: { staff: [], player: [] },
        ...FINISH,
      });
      // Reads run for real; the writes reach the statement that finds no player / staff row and
      // refuses; the player's channel (player id 0, no one's) is refused after the session check.
      expect(new Set(answered)).toEqual(
        new Set([
          "GET /api/trpc/staff.queue as staff: 200",
          "GET /api/trpc/staff.me as staff: 200",
          "POST /api/trpc/staff.reply as staff: 403",
          "POST /api/player-chat-integration/send as staff: 403",
          "POST /api/unified-chat/send as staff: 403",
          "POST /api/realtime/auth as staff: 200",
          "POST /api/realtime/user-auth as staff: 200",
          "GET /api/trpc/chat.me as player: 200",
          "POST /api/trpc/chat.send as player: 403",
          "POST /api/unified-chat/send as player: 403",
          "POST /api/realtime/auth as player: 403",
          // Past the access check (a refused reader is a 403): no rows are read for a staff member
          // no row has, and player 1 is no one in the demo seed (its ids start at 29).
          `GET ${WARM_UP_THREAD} as staff: 404`,
          `GET ${WARM_UP_THREAD}?before=2&limit=50 as staff: 404`,
          "GET /api/trpc/staff.queue as nobody: 401",
          "GET /api/auth/get-session as nobody: 200",
        ]),
      );
      for (const read of [lookUp, rowRead]) {
        expect(read).toHaveBeenCalled();
        for (const result of read.mock.results) expect(await result.value).toBeNull();
      }
      expect(await contents(handle.db)).toEqual(before);
      expect(published).toEqual([]);
    } finally {
      await handle.close();
    }
    // PGlite seeding and the first render of every route under a loaded machine: well over 20 s.
  }, 120_000);
});

describe.each(testDbKinds)("the warm-up's reads of found records on %s", (kind: TestDbKind) => {
  it("reads a live session's row by its token as a first signed-in request finds it, keeping no session and changing no row", async () => {
    const handle = await openTestDb(kind);
    try {
      const deps = await httpTestDeps(handle);
      const cookie = await signInCookie(deps, "player31@floorline.test");
      const token = decodeURIComponent(/better-auth\.session_token=([^;]+)/.exec(cookie)?.[1] ?? "").split(".")[0];
      const before = await contents(handle.db);
      const held = heldSessionCount();
      rowReads.length = 0;
      await warmUp(recordingHandler().handler, async () => deps, { poolSize: 1, pages: [], ...FINISH });
      expect(rowReads).toContainEqual({ token, found: true });
      expect(heldSessionCount()).toBe(held);
      expect(await contents(handle.db)).toEqual(before);
    } finally {
      await handle.close();
    }
  }, 120_000);
});

describe.each(testDbKinds)("the warm-up's publish of a synthetic message on %s", (kind: TestDbKind) => {
  it("goes through the real publisher to a channel no one can be authorized for, and to no real channel", async () => {
    const handle = await openTestDb(kind);
    const rt = await startRealtime();
    const publisher = createPublisher({ ...APP, host: "127.0.0.1", port: rt.port, useTLS: false });
    // One connection on every channel involved (signed by the test itself, which holds the secret):
    // the realtime server writes one connection's frames in the order it publishes them.
    const client = connectClient(rt);
    try {
      const deps = await httpTestDeps(handle, { publisher });
      const seen: string[] = [];
      let endsIn = () => {};
      const ends = new Promise<void>((resolve) => {
        endsIn = resolve;
      });
      for (const name of [STAFF_CHANNEL, playerChannel(29), WARM_UP_CHANNEL]) {
        const channel = await subscribed(client, name);
        channel.bind_global((event: string) => {
          if (!event.startsWith("pusher:")) seen.push(`${name} ${event}`);
          if (seen.filter((s) => s.endsWith(" end")).length === 3) endsIn();
        });
      }
      const before = await contents(handle.db);
      const handler: http.RequestListener = (req, res) => void serveApi(req, res, async () => deps);
      await warmUp(handler, async () => deps, {
        poolSize: 0,
        pages: [],
        signedInPages: { staff: [], player: [] },
        ...FINISH,
      });
      // A last event on each channel after the warm-up: once all three are in, anything the warm-up
      // published is in too.
      await publisher.triggerBatch(
        [STAFF_CHANNEL, playerChannel(29), WARM_UP_CHANNEL].map((channel) => ({ channel, name: "end", data: "{}" })),
      );
      await ends;
      const real = seen.filter((s) => !s.startsWith(WARM_UP_CHANNEL));
      expect(real).toEqual([`${STAFF_CHANNEL} end`, `${playerChannel(29)} end`]);
      // A player's send and a staff reply, as built for real ones (server/chat/announce.ts).
      expect(new Set(seen.filter((s) => s.startsWith(WARM_UP_CHANNEL)))).toEqual(
        new Set(
          [
            "new-chat-request",
            "chat-message-received",
            "player-confirmation",
            "new-gre-message",
            "chat-request-updated",
            "end",
          ].map((event) => `${WARM_UP_CHANNEL} ${event}`),
        ),
      );
      expect(await contents(handle.db)).toEqual(before);
    } finally {
      client.disconnect();
      await rt.close();
      await handle.close();
    }
  }, 120_000);

  it("publishes where no one is ever authorized to listen, staff included", async () => {
    const handle = await openTestDb(kind);
    try {
      const deps = await httpTestDeps(handle);
      expect(parseChannel(WARM_UP_CHANNEL)).toBeNull();
      for (const email of ["asha@floorline.test", "player29@floorline.test"]) {
        const cookie = await signInCookie(deps, email);
        const res = await authorizeChannel(
          deps,
          new Request("http://localhost:3000/api/realtime/auth", {
            method: "POST",
            headers: { cookie, origin: "http://localhost:3000", "content-type": "application/x-www-form-urlencoded" },
            body: `socket_id=1.1&channel_name=${WARM_UP_CHANNEL}`,
          }),
        );
        expect(res.status).toBe(403);
      }
    } finally {
      await handle.close();
    }
  }, 120_000);
});

describe.runIf(!!process.env.TEST_DATABASE_URL)("warm-up on Postgres", () => {
  // Prepared statements live per connection: the first signed-in read on each connection parsed
  // and planned them (a thread page: parse 4.8 + bind 1.4 ms against 0.5 ms once prepared, at 1M
  // messages, load 3), and the anonymous requests stop before they run. The send's and the reply's
  // statements likewise: the warm-up's own sends, one at a time, prepared them on one connection only.
  it("prepares the session check's, the signed-in reads', the send's and the reply's statements on every pooled connection, writing nothing", async () => {
    const { url, drop } = await freshPostgresDatabase();
    const handle = connectPostgres(url, 3);
    try {
      await migrate(handle);
      const before = await contents(handle.db);
      const { handler } = recordingHandler();
      await warmUp(handler, async () => ({ db: handle.db }) as unknown as HttpDeps, {
        poolSize: 3,
        pages: [],
        ...FINISH,
      });
      expect(await contents(handle.db)).toEqual(before);
      const prepared = await onEachConnection(handle, 3, async (tx) => {
        const rows = await rowsOf<{ name: string }>(tx, sql`select name from pg_prepared_statements order by name`);
        return rows.map((r) => r.name);
      });
      for (const names of prepared)
        expect(names).toEqual([
          "chat_send_player_message",
          "chat_staff_reply",
          "player_by_user",
          "session_by_token",
          "staff_by_user",
          "staff_queue",
          "thread_page",
          "thread_page_with_reader",
        ]);
    } finally {
      await handle.close();
      await drop();
    }
    // A database of its own, migrated, then the warm-up: at load 28 with Postgres replies 5 ms
    // late, past the suite's 20 s.
  }, 120_000);

  it("keeps the pooled connections it warmed (and what it prepared on them) while they are idle", async () => {
    const { url, drop } = await freshPostgresDatabase();
    // The pool's idle timer, and nothing else, runs on fake time: an idle connection's removal comes
    // (or not) at once, where real time would wait it out.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const handle = connectPostgres(url, 3);
    try {
      const backends = async () => {
        const pids = await onEachConnection(handle, 3, async (tx) => {
          const [row] = await rowsOf<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`);
          return row?.pid;
        });
        return pids.sort();
      };
      const warmed = await backends();
      // node-postgres closed a connection idle for 10 s: a quiet spell after the start (or between
      // bursts) lost what the warm-up opened and prepared, and the next burst paid for it again.
      vi.advanceTimersByTime(60_000);
      expect(await backends()).toEqual(warmed);
    } finally {
      vi.useRealTimers();
      await handle.close();
      await drop();
    }
  });

  it("never holds the start for a read that waits on a lock", async () => {
    const { url, drop } = await freshPostgresDatabase();
    const handle = connectPostgres(url, 2);
    // A migration of another instance, say: every read of players waits until it commits.
    const blocker = new Client({ connectionString: url });
    try {
      await migrate(handle);
      await blocker.connect();
      await blocker.query("begin; lock table players in access exclusive mode");
      const { handler } = recordingHandler();
      const deps = async () => ({ db: handle.db }) as unknown as HttpDeps;
      await expect(warmUp(handler, deps, { poolSize: 2, pages: [], timeoutMs: 200 })).resolves.toBeUndefined();
    } finally {
      await blocker.end();
      await handle.close();
      await drop();
    }
  });
});

/** `read` on each of the pool's `n` connections: all held at once, so each one answers for itself. */
async function onEachConnection<T>(handle: DbHandle, n: number, read: (tx: Db) => Promise<T>) {
  let arrived = 0;
  let allIn = () => {};
  const barrier = new Promise<void>((resolve) => {
    allIn = resolve;
  });
  return Promise.all(
    Array.from({ length: n }, () =>
      handle.db.transaction(async (tx) => {
        if (++arrived === n) allIn();
        await barrier;
        return read(tx);
      }),
    ),
  );
}

/** Every table's rows (a digest each) and every sequence's position: any write changes one. */
async function contents(db: Db) {
  const tables = await rowsOf<{ name: string }>(
    db,
    sql`select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const digests: Record<string, string | undefined> = {};
  for (const { name } of tables) {
    const [row] = await rowsOf<{ digest: string }>(
      db,
      sql.raw(`select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from "${name}" t`),
    );
    digests[name] = row?.digest;
  }
  const sequences = await rowsOf<{ name: string; value: string | null }>(
    db,
    sql`select sequencename as name, last_value::text as value from pg_sequences where schemaname = 'public' order by 1`,
  );
  return { digests, sequences };
}

/**
 * For the tests that look at what a finished warm-up did: its own limit (20 s, which ends a start's
 * wait on a hang) is a hang guard here only. With every Postgres reply 20 ms late, at load 25, the
 * warm-up of a real database ran 34 s, gave up at 20 s ("aborted due to timeout") before its publish
 * and the test failed on what had not run yet; a test's 120 s bounds it instead.
 */
const FINISH = { timeoutMs: 110_000 };

const noDatabase = async () => ({ db: { execute: async () => {} } }) as unknown as HttpDeps;

/** Whether something still accepts connections on this loopback port. */
function connects(port: number) {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
