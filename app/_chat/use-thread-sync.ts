"use client";

import { type QueryKey, useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef } from "react";
import type { ChatMessage, MessageStatus, Sender } from "@/db/schema";
import {
  applyStatus,
  flattenHistory,
  type HistoryData,
  hasGap,
  lastSeqOf,
  mergeIntoHistory,
  resyncPoint,
} from "./thread-cache";

type FetchSince = (sinceSeq: number) => Promise<{ messages: ChatMessage[]; hasMore: boolean }>;

/**
 * Keeps one thread's cached pages whole: rows from events are written straight into the cache;
 * a seq gap (or a call to `catchUp`) fetches what is missing from the database.
 */
export function useThreadSync(opts: { queryKey: QueryKey; fetchSince: FetchSince; mine: Sender }) {
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
          if (!data) return;
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
          // Offline or server trouble: the next reconnect or visibility change tries again.
        })
        .finally(() => {
          running.current = null;
        });
      return running.current;
    },
    [read, write],
  );

  const receive = useCallback(
    (messages: ChatMessage[]) => {
      const data = read();
      if (!data) {
        // Still loading: a fetch already under way may predate this row, so start it again.
        void queryClient.invalidateQueries({ queryKey: latest.current.queryKey });
        return;
      }
      const before = lastSeqOf(data);
      // Show what arrived at once; then fetch what came between (the rows are ordered by seq).
      write((d) => mergeIntoHistory(d, messages));
      if (hasGap(before, messages)) void catchUp(before);
    },
    [read, write, catchUp, queryClient],
  );

  const setStatus = useCallback(
    (change: { status: MessageStatus; upToSeq: number; sender: Sender }) => write((d) => applyStatus(d, change)),
    [write],
  );

  return { receive, catchUp, setStatus };
}
