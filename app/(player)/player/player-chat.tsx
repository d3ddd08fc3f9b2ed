"use client";

import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import type { ChatMessage } from "@/db/schema";
import { Composer } from "../../_chat/composer";
import { MessageList } from "../../_chat/message-list";
import { flattenHistory, mergeIntoHistory, olderPage } from "../../_chat/thread-cache";
import { useOutbox } from "../../_chat/use-outbox";
import { useTRPC, useTRPCClient } from "../../_trpc/client";

export function PlayerChat({ userId, signOut }: { userId: string; signOut: React.ReactNode }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.chat.me.queryOptions());
  const historyOptions = trpc.chat.history.infiniteQueryOptions({ limit: 50 }, { getNextPageParam: olderPage });
  const history = useInfiniteQuery(historyOptions);
  const player = me.data?.player;

  const onStored = useCallback(
    (message: ChatMessage) => {
      queryClient.setQueryData(historyOptions.queryKey, (data) => mergeIntoHistory(data, [message]));
    },
    [queryClient, historyOptions.queryKey],
  );
  const outbox = useOutbox({
    owner: `player-${userId}`,
    send: async (entry) => (await client.chat.send.mutate({ id: entry.id, text: entry.text })).message,
    onStored,
  });

  const messages = flattenHistory(history.data);
  // The server already has it: an entry still listed (another tab sent it) is not shown twice.
  const stored = new Set(messages.map((m) => m.id));
  const pending = outbox.entries.filter((e) => !stored.has(e.id));

  return (
    <>
      <header className="topbar">
        <div>
          <strong>Floorline</strong>
          {player && (
            <span className="muted">
              {" "}
              · {player.displayName} · Player ID {player.id}
            </span>
          )}
        </div>
        {signOut}
      </header>
      <main className="chat-main">
        <h1 className="visually-hidden">Chat with the floor team</h1>
        <MessageList
          label="Conversation with the floor team"
          messages={messages}
          pending={pending}
          online={outbox.online}
          mine="player"
          viewerUserId={userId}
          onRetry={outbox.retry}
          onDiscard={outbox.discard}
          hasOlder={history.hasNextPage}
          loadingOlder={history.isFetchingNextPage}
          onLoadOlder={() => void history.fetchNextPage()}
          emptyText="Ask the floor team anything: deposits, withdrawals, table bookings. A staff member will answer here."
        />
        <Composer onSend={outbox.enqueue} />
      </main>
    </>
  );
}
