"use client";

import { type QueryKey, useQueryClient } from "@tanstack/react-query";
import type { Channel } from "pusher-js";
import { useCallback, useEffect, useRef, useState } from "react";
import type { ChatMessage, Sender } from "@/db/schema";
import { EVENTS } from "@/protocol/channels";
import { decodeEvent, type MessageEvent, type StatusEvent } from "@/protocol/events";
import { useChannel, useEvent, useEvents } from "../_realtime/provider";
import { applyStatus, firstGap, flattenHistory, type HistoryData, mergeIntoHistory, resyncPoint } from "./thread-cache";
import { useCatchUp } from "./use-catch-up";
import { useReadReceipts } from "./use-read-receipts";

type FetchSince = (sinceSeq: number) => Promise<{ messages: ChatMessage[]; hasMore: boolean }>;

export type ThreadSyncOptions = {
  /** The thread's infinite query (its key and current data); the caller runs the query. */
  queryKey: QueryKey;
  data: HistoryData | undefined;
  /** Whose thread. Null until known. */
  playerId: number | null;
  /**
   * Where its rows arrive, and as which events: the player's own channel for the player; the
   * staff channel (full rows, every player's) for staff, filtered to this player here.
   */
  channelName: string | null;
  messageEvents: readonly string[];
  fetchSince: FetchSince;
  /** This portal's side: its messages get receipts; the other side's are reported read. */
  mine: Sender;
  /** Reports the other side's messages read up to a seq; the answer is applied here. */
  markRead: (upToSeq: number) => Promise<StatusEvent | undefined>;
  /** After a row arrives by event (e.g. to clear "is typing"). */
  onMessage?: (message: ChatMessage) => void;
  /** After each catch-up is started (e.g. to refresh what else the page shows). */
  onCatchUp?: () => void;
};

/**
 * How a thread stays whole, for both portals: rows from events go straight into the cache; any
 * hole in the seqs held (whoever wrote the row that revealed it, our own send included), a
 * (re)subscription (so once per reconnect) or a tab coming back fetches `since` from the database.
 */
export function useThreadSync(opts: ThreadSyncOptions): {
  channel: Channel | null;
  messages: ChatMessage[];
  setStatus: (change: StatusEvent) => void;
  /** For MessageList's onSeen: how far the reader has seen the thread; nothing later is reported read. */
  onSeen: (seq: number) => void;
} {
  const queryClient = useQueryClient();
  const latest = useRef(opts);
  latest.current = opts;
  const running = useRef<Promise<void> | null>(null);
  const again = useRef(false);
  /** Lowest seq a pending catch-up must start from (after a gap), or null = work it out. */
  const startAt = useRef<number | null>(null);

  const read = useCallback(() => queryClient.getQueryData<HistoryData>(latest.current.queryKey), [queryClient]);
  const write = useCallback(
    (change: (data: HistoryData | undefined) => HistoryData | undefined) =>
      queryClient.setQueryData<HistoryData>(latest.current.queryKey, change),
    [queryClient],
  );

  const catchUp = useCallback(
    (fromSeq?: number): Promise<void> => {
      if (fromSeq !== undefined) startAt.current = Math.min(startAt.current ?? fromSeq, fromSeq);
      if (running.current) {
        // One fetch at a time; a request that arrives meanwhile runs once more afterwards.
        again.current = true;
        return running.current;
      }
      const run = async () => {
        do {
          again.current = false;
          const data = read();
          if (!data) {
            // Nothing loaded (still loading, or the first load failed in an outage): load it again.
            await queryClient.invalidateQueries({ queryKey: latest.current.queryKey });
            return;
          }
          const own = resyncPoint(flattenHistory(data), latest.current.mine);
          let since = Math.min(startAt.current ?? own, own);
          startAt.current = null;
          for (;;) {
            const page = await latest.current.fetchSince(since);
            write((d) => mergeIntoHistory(d, page.messages));
            if (!page.hasMore || page.messages.length === 0) break;
            since = page.messages.at(-1)?.seq ?? since;
          }
        } while (again.current);
      };
      running.current = run()
        .catch(() => {
          // Offline or server trouble: the next reconnect, resubscription or visibility change tries again.
        })
        .finally(() => {
          running.current = null;
        });
      return running.current;
    },
    [read, write, queryClient],
  );

  const resync = useCallback(() => {
    void catchUp();
    latest.current.onCatchUp?.();
  }, [catchUp]);

  /**
   * Receipts are cumulative ("all of X's messages up to seq N are read"), and one can arrive
   * before the row it covers (our own send's answer may come after the other side read it):
   * the newest of each kind is kept and applied to whatever rows arrive later.
   */
  const receipts = useRef(new Map<string, StatusEvent>());
  const setStatus = useCallback(
    (change: StatusEvent) => {
      const key = `${change.sender}:${change.status}`;
      const known = receipts.current.get(key);
      if (!known || known.upToSeq < change.upToSeq) receipts.current.set(key, change);
      write((d) => applyStatus(d, change));
    },
    [write],
  );

  const channel = useChannel(opts.playerId ? opts.channelName : null);
  const onMessageEvent = (raw: unknown) => {
    const { message } = decodeEvent<MessageEvent>(raw);
    if (message.playerId !== latest.current.playerId) return;
    if (!read()) {
      // Still loading: a fetch already under way may predate this row, so start it again.
      void queryClient.invalidateQueries({ queryKey: latest.current.queryKey });
    } else {
      write((d) => mergeIntoHistory(d, [message]));
    }
    latest.current.onMessage?.(message);
  };
  useEvents(channel, opts.messageEvents, onMessageEvent);
  useEvent(channel, EVENTS.messageStatus, (raw) => {
    const change = decodeEvent<StatusEvent>(raw);
    if (change.playerId === latest.current.playerId) setStatus(change);
  });
  // Each (re)subscription: whatever was published before it was live was missed.
  useCatchUp(channel, resync);

  useEffect(() => {
    if (!opts.data) return;
    // A row written after its receipt arrived (by any path): bring it up to date.
    for (const change of receipts.current.values()) write((d) => applyStatus(d, change));
  }, [opts.data, write]);

  const messages = flattenHistory(opts.data);
  // Any hole in what we hold, however the row that revealed it got here, is fetched.
  const gapAfter = firstGap(messages);
  useEffect(() => {
    if (gapAfter !== null) void catchUp(gapAfter);
  }, [gapAfter, catchUp]);

  const other: Sender = opts.mine === "player" ? "staff" : "player";
  const [seenUpTo, onSeen] = useState(0);
  useReadReceipts(messages, other, seenUpTo, (upToSeq) => {
    // The server leaves this tab out of the message-status fan-out: apply the answer here.
    latest.current.markRead(upToSeq).then(
      (change) => change && setStatus(change),
      () => {},
    );
  });

  return { channel, messages, setStatus, onSeen };
}
