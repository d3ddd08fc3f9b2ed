"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import { applyMessage, upsertRequest, withNewerRequest } from "../../_chat/queue-cache";
import { mergeIntoHistory, olderPage } from "../../_chat/thread-cache";
import { useTRPC } from "../../_trpc/client";

export const THREAD_PAGE_SIZE = 50;

/**
 * The staff portal's caches and the one way each is written, whoever writes: events, our own
 * results, or the portal's outbox. Requests are replaced only by newer versions of themselves.
 */
export function useStaffCaches() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();

  const threadOptions = useCallback(
    (playerId: number, enabled = true) =>
      trpc.staff.thread.infiniteQueryOptions(
        { playerId, limit: THREAD_PAGE_SIZE },
        { getNextPageParam: olderPage, enabled },
      ),
    [trpc],
  );

  /** A request as changed (and the message that changed it): into the queue and its conversation. */
  const applyRequest = useCallback(
    (changed: ChatRequest, message?: ChatMessage) => {
      queryClient.setQueryData(trpc.staff.conversation.queryKey({ requestId: changed.id }), (c) =>
        withNewerRequest(c, changed),
      );
      queryClient.setQueryData(trpc.staff.queue.queryKey(), (items) =>
        message ? applyMessage(items, message, changed) : upsertRequest(items, changed),
      );
    },
    [queryClient, trpc],
  );

  const addToThread = useCallback(
    (message: ChatMessage) =>
      queryClient.setQueryData(threadOptions(message.playerId).queryKey, (data) => mergeIntoHistory(data, [message])),
    [queryClient, threadOptions],
  );

  return useMemo(() => ({ threadOptions, applyRequest, addToThread }), [threadOptions, applyRequest, addToThread]);
}
