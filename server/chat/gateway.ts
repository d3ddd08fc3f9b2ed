import type Pusher from "pusher";
import { encodePayload, type OutgoingEvent } from "./announce";
import { STAFF_PRESENCE } from "./channels";

/** How the chat domain reaches live clients. Tests use a real server; `silentGateway` = none. */
export type RealtimeGateway = {
  /** Never throws: a realtime hiccup must not fail a stored message (clients resync). */
  publish(events: OutgoingEvent[], opts?: { socketId?: string }): Promise<void>;
  /** Staff on duty (members of presence-staff), or null when the server cannot say. */
  staffOnline(): Promise<number | null>;
  /** User ids in a presence channel, or null when the server cannot say. */
  presenceUserIds(channel: string): Promise<string[] | null>;
};

const BATCH_LIMIT = 10; // Pusher's batch_events maximum

export function pusherGateway(pusher: Pusher, log: (msg: string) => void = console.error): RealtimeGateway {
  return {
    async publish(events, opts = {}) {
      for (let i = 0; i < events.length; i += BATCH_LIMIT) {
        const batch = events.slice(i, i + BATCH_LIMIT).map((e) => ({
          channel: e.channel,
          name: e.name,
          data: encodePayload(e.data),
          ...(opts.socketId ? { socket_id: opts.socketId } : {}),
        }));
        try {
          await pusher.triggerBatch(batch);
        } catch (err) {
          log(`[realtime] publish failed (${batch.map((b) => b.name).join(", ")}): ${describeError(err)}`);
        }
      }
    },
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
  };
}

export const silentGateway: RealtimeGateway = {
  publish: async () => {},
  staffOnline: async () => null,
  presenceUserIds: async () => null,
};

function describeError(err: unknown) {
  if (err && typeof err === "object" && "status" in err) return `HTTP ${(err as { status: number }).status}`;
  return err instanceof Error ? err.message : String(err);
}
