import { randomBytes } from "node:crypto";
import type Pusher from "pusher";
import { EVENTS, STAFF_PRESENCE } from "@/protocol/channels";
import { encodeEvent } from "@/protocol/events";
import type { Publisher } from "../realtime/publisher";
import type { OutgoingEvent } from "./announce";

/** How the chat domain reaches live clients. Tests use a real server; `silentGateway` = none. */
export type RealtimeGateway = {
  /**
   * Queues the events and returns: it never waits for the realtime server and never throws. So a
   * change the caller answers as done is stored (the database is the truth), and its delivery goes
   * on in the background: every channel gets one player's events in the order publish was called
   * (see the lanes below); a batch that failed or went unanswered is retried in order
   * (one refused with a 4xx is not: it would be refused again). An unanswered one may have been
   * delivered already: its retry carries the same idempotency keys, so our realtime server hands it
   * out once (hosted Pusher has no such keys: there sockets may get it twice, and clients drop the
   * copy by id and seq). Clients that still missed it catch up from the database: told to by a
   * `catch-up` event once the server answers again (given up, refused, or dropped over a bound), or
   * by their next event's seq, resubscription or visibility (this process stopped).
   */
  publish(events: OutgoingEvent[], opts?: { socketId?: string }): void;
  /** Staff on duty (members of presence-staff), or null when the server cannot say. */
  staffOnline(): Promise<number | null>;
  /** User ids in a presence channel, or null when the server cannot say. */
  presenceUserIds(channel: string): Promise<string[] | null>;
  /** Resolves once nothing is on the wire, waiting or held for retry (tests, shutdown). */
  idle(): Promise<void>;
};

const BATCH_LIMIT = 10; // Pusher's batch_events maximum

export type GatewayOptions = {
  log?: (msg: string) => void;
  /** First background retry after this; doubles per attempt. */
  retryBaseMs?: number;
  /** Attempts after the first before a batch is dropped (clients still catch up from the database). */
  retryAttempts?: number;
  /** Batches held for retry at most; beyond it the oldest is dropped, so an outage cannot grow memory. */
  maxHeld?: number;
  /**
   * Give every event an `idempotency_key` (our realtime server drops a repeat within its window).
   * Default on; off for hosted Pusher, whose batch API documents no such field.
   */
  idempotencyKeys?: boolean;
  /**
   * Publish requests on the wire at once at most, one per lane (default 2). A lane hands out at
   * most Pusher's 10 events per round trip, so a far server (hosted Pusher, 50–100 ms away) wants
   * more of them (services.ts gives it 16); near, two keep concurrent sends packed together.
   */
  lanes?: number;
  /**
   * Batches waiting in one lane at most (default 1,000: ≤ 10,000 events). Sends no longer wait for
   * their publish, so nothing else bounds this line while the server answers, only slowly. Beyond
   * it the oldest waiting batch is dropped with a log line: it is the stalest, it is stored, and
   * its channels are told to catch up from the database once the line has drained.
   */
  maxWaiting?: number;
  /**
   * Channels remembered for a catch-up at most (default 10,000: one per player, plus the staff
   * channels), so an outage cannot grow memory. A channel over it is not told; its clients still
   * heal by seq on their next event, on resubscription or when the tab returns.
   */
  maxStale?: number;
};

type Batch = Array<Parameters<Pusher["triggerBatch"]>[0][number] & { idempotency_key?: string }>;

type Lane = { onWire: boolean; waiting: Batch[] };
const PLAYER_CHANNEL = /^private-player-(\d+)$/;

/** A player channel's lane; other channels have none of their own. */
function laneOfChannel<T>(lanes: T[], channel: string): T | undefined {
  const id = PLAYER_CHANNEL.exec(channel)?.[1];
  return id ? lanes[Number(id) % lanes.length] : undefined;
}

/** A batch's lane: by the player channel it names (every player's events name theirs), else the first. */
function laneOf<T>(lanes: T[], batch: Batch): T {
  for (const event of batch) {
    const lane = laneOfChannel(lanes, event.channel);
    if (lane) return lane;
  }
  return lanes[0] as T;
}

export function pusherGateway(pusher: Publisher, opts: GatewayOptions = {}): RealtimeGateway {
  // Never throws: a publish's failure must not become the caller's (or an unhandled rejection).
  const log = (msg: string) => {
    try {
      (opts.log ?? console.error)(msg);
    } catch {}
  };
  const baseMs = opts.retryBaseMs ?? 500;
  const attempts = opts.retryAttempts ?? 6; // 0.5 + 1 + 2 + 4 + 8 + 16 s ≈ half a minute
  const maxHeld = opts.maxHeld ?? 1000;
  const maxWaiting = Math.max(1, opts.maxWaiting ?? 1000);
  const maxStale = opts.maxStale ?? 10_000;
  // Unique per event across restarts and instances: a random prefix per gateway, then a counter.
  const keyPrefix = (opts.idempotencyKeys ?? true) ? randomBytes(9).toString("base64url") : null;
  let keyCount = 0;
  const held: Array<{ batch: Batch; tries: number }> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * A drain is sending held[0]: no second drain may start meanwhile (a send held now would
   * schedule one), or both would send the head, coalesced with newer batches, and shift twice:
   * events delivered twice and others dropped.
   */
  let draining = false;
  /** The last attempt went unanswered: until one is answered, sends leave publishing to the background. */
  let unanswered = false;
  const waiters: Array<() => void> = [];

  const names = (batch: Batch) => batch.map((b) => b.name).join(", ");

  /**
   * Channels whose events were dropped (refused, given up, or over a bound). Their clients heal by
   * seq on their next event, but when none follows (a player's last reply), nothing would tell
   * them: once the backlog has drained, each gets a `catch-up` event and reloads what it shows
   * from the database (app/_chat/use-catch-up.ts).
   */
  const stale = new Set<string>();
  const dropped = (batch: Batch, why: string, opts: { refused?: boolean } = {}) => {
    // A refused catch-up would be refused again: remembered, it went out again after each refusal,
    // without end against a server that refuses everything (a wrong secret: 315 requests/s).
    const told = opts.refused ? batch.filter((e) => e.name !== EVENTS.catchUp) : batch;
    // Over the bound a new channel is not remembered, so the log must not say it will be told.
    const left = new Set<string>();
    for (const { channel } of told) {
      if (stale.has(channel)) continue;
      if (stale.size < maxStale) stale.add(channel);
      else left.add(channel);
    }
    const some = told.some((e) => !left.has(e.channel));
    const notTold = left.size
      ? `${some ? ", except on" : "; its clients are not told to catch up:"} ${[...left].join(", ")}: not remembered, ${maxStale} channels already wait for one (they heal by seq or on resubscription)`
      : "";
    log(`[realtime] ${why}${some ? "; its clients are told to catch up" : ""}${notTold}`);
  };
  /**
   * Publishes the catch-ups: all of them, or (`drained`) those of the channels whose lane that is.
   * A channel is told only once its own lane has drained: put in another lane's full line, its
   * catch-up would push out older events and make more channels stale under sustained load.
   */
  const tellStale = (drained?: Lane) => {
    const told = [...stale].filter((channel) => !drained || (laneOfChannel(lanes, channel) ?? lanes[0]) === drained);
    for (const channel of told) stale.delete(channel);
    if (told.length) publish(told.map((channel) => ({ channel, name: EVENTS.catchUp, data: {} })));
  };
  /**
   * True when sent; otherwise why not, whether sending it again could deliver it twice, and
   * whether the server refused it for what it is (sending it again cannot help).
   */
  const trySend = async (batch: Batch): Promise<true | { why: string; mayHaveArrived: boolean; refused: boolean }> => {
    try {
      await pusher.triggerBatch(batch);
      return true;
    } catch (err) {
      return { why: describeError(err), mayHaveArrived: mayHaveArrived(err), refused: refused(err) };
    }
  };

  // Held batches leave one request at a time (in order), so under load each request carries as
  // many of them as Pusher's batch limit allows: otherwise a backlog drains at one small batch per
  // round trip and delivery falls behind the sends (issue 11, throughput at 32 senders).
  const coalesce = () => {
    while (held.length > 1) {
      const [head, second] = held as [(typeof held)[number], (typeof held)[number]];
      if (head.batch.length + second.batch.length > BATCH_LIMIT) return;
      head.batch = [...head.batch, ...second.batch];
      held.splice(1, 1);
    }
  };

  const schedule = () => {
    if (timer || draining || held.length === 0 || lanes.some((l) => l.onWire)) return;
    const delay = baseMs * 2 ** Math.max(0, (held[0]?.tries ?? 1) - 1);
    timer = setTimeout(async () => {
      timer = undefined;
      draining = true;
      // In order, stopping at the first failure: the server is probably still down.
      let answeredLast = false;
      while (held.length) {
        coalesce();
        const next = held[0];
        if (!next) break;
        const result = await trySend(next.batch);
        unanswered = result !== true && result.mayHaveArrived;
        answeredLast = result === true || result.refused;
        if (result === true) {
          held.shift();
          continue;
        }
        if (result.refused) {
          held.shift();
          dropped(next.batch, `publish refused (${names(next.batch)}): ${result.why}; not sent again`, {
            refused: true,
          });
          continue;
        }
        next.tries++;
        if (next.tries > attempts) {
          held.shift();
          // Given up: whether the server answers now is unknown, so the next batch tries the wire at
          // once (it is held after its own timeout if not) rather than wait a retry delay.
          unanswered = false;
          dropped(next.batch, `gave up publishing (${names(next.batch)}) after ${next.tries} attempts: ${result.why}`);
          continue;
        }
        break;
      }
      draining = false;
      if (held.length) return schedule();
      // Only a server that answers gets the catch-ups; after giving up on a silent one they wait.
      if (answeredLast) tellStale();
      settle();
    }, delay);
    timer.unref?.();
  };

  const hold = (batch: Batch) => {
    if (held.length >= maxHeld) {
      // Never the head while a drain is sending it: the drain shifts it when its answer comes.
      // With only that head held, the oldest batch not yet sent is this one.
      const first = draining ? 1 : 0;
      if (first >= held.length) return dropped(batch, `retry queue full: dropped (${names(batch)})`);
      const [oldest] = held.splice(first, 1);
      if (oldest) dropped(oldest.batch, `retry queue full: dropped (${names(oldest.batch)})`);
    }
    held.push({ batch, tries: 1 });
    schedule();
  };

  /** One attempt for a batch; what a failure means is decided here, once per request. */
  const dispatch = async (batch: Batch) => {
    const result = await trySend(batch);
    if (result === true) return;
    if (result.refused)
      return dropped(batch, `publish refused (${names(batch)}): ${result.why}; not sent again`, { refused: true });
    unanswered = result.mayHaveArrived;
    log(
      `[realtime] publish ${result.mayHaveArrived ? "unanswered" : "failed"} (${names(batch)}): ${result.why}; retrying in the background`,
    );
    hold(batch);
  };

  // Lanes (two by default), each with one publish request on the wire at a time, and a player's events always
  // in the same lane (chosen by the player channel a batch names): the realtime server takes a
  // lane's requests in the order they were made, so every channel sees one player's events in the
  // order publish was called. Only events about different players may pass each other (on the
  // staff channel), as concurrent sends always could; clients order each player's by seq and each
  // request's by version. Two lanes keep two requests on the wire, as before publishes stopped
  // holding the send: one lane halves what can be delivered while the server is slow to answer.
  // Batches made while their lane is busy wait, packed together up to Pusher's batch limit, and
  // leave as one request when the answer comes: under 32 concurrent senders that is several sends
  // per request instead of one each, whose SDK fetch, signature and parsing in the realtime server
  // are paid once (issue 11). A batch made while its lane is free leaves at once.
  const lanes: Lane[] = Array.from({ length: Math.max(1, opts.lanes ?? 2) }, () => ({ onWire: false, waiting: [] }));
  const wire = (lane: Lane, batch: Batch) => {
    lane.onWire = true;
    // dispatch never rejects (trySend catches, log cannot throw): no unhandled rejection here.
    void dispatch(batch).finally(() => answered(lane));
  };
  const send = (lane: Lane, batch: Batch) => {
    if (!lane.onWire) return wire(lane, batch);
    const last = lane.waiting.at(-1);
    if (last && last.length + batch.length <= BATCH_LIMIT) return void last.push(...batch);
    if (lane.waiting.length >= maxWaiting) {
      const oldest = lane.waiting.shift() ?? [];
      dropped(oldest, `publish backlog full: dropped (${names(oldest)})`);
    }
    lane.waiting.push([...batch]);
  };
  const answered = (lane: Lane) => {
    lane.onWire = false;
    // The server stopped answering (or batches are held) while these waited: behind them, in order.
    if (held.length || unanswered) for (const batch of lane.waiting.splice(0)) hold(batch);
    const group = lane.waiting.shift();
    if (group) return wire(lane, group);
    // Drained, and this request was answered (a failed one would be held now).
    if (!held.length && !unanswered) tellStale(lane);
    schedule(); // a retry waits until no lane is on the wire: it must not pass a batch sent before it
    settle();
  };
  /** Wakes idle() once nothing is on the wire, waiting, or held for a retry. */
  const settle = () => {
    if (held.length || draining || lanes.some((l) => l.onWire || l.waiting.length)) return;
    for (const w of waiters.splice(0)) w();
  };

  const publish: RealtimeGateway["publish"] = (events, opts = {}) => {
    try {
      // One serialisation per payload: announce.ts hands the same object to every channel it goes to.
      const encoded = new Map<unknown, string>();
      const encode = (data: unknown) => {
        const text = encoded.get(data) ?? encodeEvent(data);
        encoded.set(data, text);
        return text;
      };
      // Synchronous up to here and below: the order batches are queued in is the order of calls.
      const batches: Batch[] = [];
      for (let i = 0; i < events.length; i += BATCH_LIMIT) {
        batches.push(
          events.slice(i, i + BATCH_LIMIT).map((e) => ({
            channel: e.channel,
            name: e.name,
            data: encode(e.data),
            ...(opts.socketId ? { socket_id: opts.socketId } : {}),
            ...(keyPrefix ? { idempotency_key: `${keyPrefix}.${(keyCount++).toString(36)}` } : {}),
          })),
        );
      }
      for (const batch of batches) {
        const lane = laneOf(lanes, batch);
        // Behind batches still held, this one waits its turn: events leave in the order they were made.
        // While the server leaves publishes unanswered, it goes to the background retry at once,
        // unless its lane has a request on the wire: that request is older and is held only when
        // its answer comes, so this one waits in the lane and answered() holds it after that one.
        if ((held.length || unanswered) && !lane.onWire) hold(batch);
        else send(lane, batch);
      }
    } catch (err) {
      // Only an event that cannot be serialised gets here: the change is stored, clients catch up.
      log(`[realtime] publish dropped (${events.map((e) => e.name).join(", ")}): ${describeError(err)}`);
    }
  };

  return {
    publish,
    async staffOnline() {
      try {
        const res = await pusher.get({ path: `/channels/${STAFF_PRESENCE}`, params: { info: "user_count" } });
        const body = (await res.json()) as { user_count?: number };
        return typeof body.user_count === "number" ? body.user_count : 0;
      } catch {
        return null;
      }
    },
    async presenceUserIds(channel) {
      try {
        const res = await pusher.get({ path: `/channels/${channel}/users` });
        const body = (await res.json()) as { users?: Array<{ id: string }> };
        return (body.users ?? []).map((u) => u.id);
      } catch {
        return null;
      }
    },
    idle() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        settle();
      });
    },
  };
}

/**
 * Resolves once the HTTP requests started so far have been written to their sockets, for a use
 * case to await after publishing a message, before its caller answers. Node's HTTP client writes a
 * request in a tick (process.nextTick) queued when it takes its socket, and that tick runs only
 * once the promise jobs run out; the answer to the client (tRPC's unwinding, the serialisation, the
 * write) is all promise jobs, so every delivery waited for the answer: the web CPU of that and a
 * loopback write, on the send -> staff and staff -> player paths (issue 11). A tick queued now runs
 * after those. A publish waiting behind another in its lane (or for a new connection) leaves later
 * either way; the wait then costs one tick. The publisher's own client for a plain-HTTP server
 * (server/realtime/plain-post.ts) writes during `publish` already; the tick is for Node's (TLS).
 *
 * Not a correctness wait (the events are queued, in order, before it; an answer means stored either
 * way): a latency trade. Its price is the sender's answer, about 0.3 ms later for a lone send (the
 * publish's write first, and the realtime process it wakes); without it the staff sockets wait for
 * the whole answer instead (bench/README.md "A lone send").
 */
export const writtenOut = () => new Promise<void>((resolve) => process.nextTick(resolve));

export const silentGateway: RealtimeGateway = {
  publish: () => {},
  idle: async () => {},
  staffOnline: async () => null,
  presenceUserIds: async () => null,
};

/** Connection errors that mean the request never reached the server. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Whether the server may have taken a failed publish (and handed it to sockets): a timeout or a
 * connection lost after the request went out. It is retried all the same (its idempotency keys
 * let our server drop the repeat), but while such a server stays silent no send waits on it.
 * A server that answered with an error, or a connection that was never made, took nothing.
 */
function mayHaveArrived(err: unknown) {
  if (typeof (err as { status?: unknown } | null)?.status === "number") return false;
  const cause = (err as { error?: unknown } | null)?.error as
    | { code?: unknown; cause?: { code?: unknown } }
    | undefined;
  const code = cause?.code ?? cause?.cause?.code;
  return !(typeof code === "string" && NOT_CONNECTED.has(code));
}

/**
 * An answer that refuses the request itself (an event over the server's size limit, say, which
 * any player can cause with a long enough message): it would be refused again on every retry,
 * and held it would hold every other send behind it for the half minute of retries. Our server
 * still publishes the other events of a batch it refuses one event of (http-api.ts).
 */
function refused(err: unknown) {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function describeError(err: unknown) {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === "number") return `HTTP ${status}`;
  // The SDK's RequestError for a network failure or timeout carries no status: say what happened.
  const cause = (err as { error?: unknown } | null)?.error;
  if (cause instanceof Error) return cause.name === "AbortError" ? "timed out" : cause.message;
  return err instanceof Error ? err.message : String(err);
}
