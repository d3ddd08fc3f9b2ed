"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import type { ChatMessage } from "@/db/schema";
import { EVENTS, playerChannel, viewingChannel } from "@/protocol/channels";
import { useSignedOut } from "../../_auth/signed-out";
import { Composer } from "../../_chat/composer";
import { MessageList } from "../../_chat/message-list";
import { sendPhoto } from "../../_chat/photo-upload";
import { SlowDownNotice } from "../../_chat/slow-down";
import { mergeIntoHistory, olderPage } from "../../_chat/thread-cache";
import { useOutbox } from "../../_chat/use-outbox";
import { useThreadSync } from "../../_chat/use-thread-sync";
import { TypingIndicator, useTyping } from "../../_chat/use-typing";
import { ConnectionBanner, useBrowserOnline, useChannel, useConnection, useEvent } from "../../_realtime/provider";
import { useTRPC, useTRPCClient } from "../../_trpc/client";
import { plainError } from "../../_trpc/plain-error";

const PLAYER_THREAD_EVENTS = [EVENTS.chatMessageReceived, EVENTS.newGreMessage, EVENTS.playerConfirmation];

export function PlayerChat({ userId, signOut }: { userId: string; signOut: React.ReactNode }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.chat.me.queryOptions());
  const browserOnline = useBrowserOnline();
  const connection = useConnection();
  const signedOut = useSignedOut();
  const player = me.data;
  const historyOptions = trpc.chat.history.infiniteQueryOptions({ limit: 50 }, { getNextPageParam: olderPage });
  const history = useInfiniteQuery(historyOptions);
  const statusOptions = trpc.chat.status.queryOptions();
  const status = useQuery({
    ...statusOptions,
    // Staff coming on duty sends no event to players: look again now and then while waiting.
    // Sooner while nobody is on duty: the player should learn at once that someone is back.
    refetchInterval: (q) =>
      q.state.data?.request?.status === "in_progress" ? false : q.state.data?.staffOnDuty === 0 ? 5_000 : 15_000,
  });
  const refreshStatus = useCallback(
    () => queryClient.invalidateQueries({ queryKey: statusOptions.queryKey }),
    [queryClient, statusOptions.queryKey],
  );

  const { channel, messages, onSeen } = useThreadSync({
    queryKey: historyOptions.queryKey,
    data: history.data,
    playerId: player?.id ?? null,
    channelName: player ? playerChannel(player.id) : null,
    // Staff replies, and the player's own messages from another tab.
    messageEvents: PLAYER_THREAD_EVENTS,
    fetchSince: (sinceSeq) => client.chat.since.query({ sinceSeq }),
    mine: "player",
    markRead: (upToSeq) => client.chat.markRead.mutate({ upToSeq }),
    onMessage: (message) => {
      if (message.sender === "staff") typing.clearTyping();
      void refreshStatus();
    },
    onCatchUp: () => void refreshStatus(),
  });
  const typing = useTyping(useChannel(player ? viewingChannel(player.id) : null), { side: "player" });
  useEvent(channel, EVENTS.chatRequestUpdated, () => void refreshStatus());

  const onStored = useCallback(
    (message: ChatMessage) => {
      queryClient.setQueryData(historyOptions.queryKey, (data) => mergeIntoHistory(data, [message]));
      void refreshStatus();
    },
    [queryClient, historyOptions.queryKey, refreshStatus],
  );
  const outbox = useOutbox({
    owner: `player-${userId}`,
    send: async (entry) =>
      (entry.photo ? await sendPhoto(entry) : await client.chat.send.mutate({ id: entry.id, text: entry.text }))
        .message,
    onStored,
  });

  // The server already has it: an entry still listed (another tab sent it) is not shown twice.
  const stored = new Set(messages.map((m) => m.id));
  const pending = outbox.entries.filter((e) => !stored.has(e.id));

  return (
    <>
      <header className="topbar">
        <div>
          <strong>Floorline</strong>
          {player && !signedOut && (
            <span className="muted">
              {" "}
              · {player.displayName} · Player ID {player.id}
            </span>
          )}
        </div>
        {signOut}
      </header>
      <ConnectionBanner />
      <main className="chat-main">
        <h1 className="visually-hidden">Chat with the floor team</h1>
        <p className="status-line" role="status">
          {/* While disconnected (or signed out) the last known state may be stale: claim nothing. */}
          {browserOnline && connection.state === "connected" && !signedOut ? describeStatus(status.data, messages) : ""}
        </p>
        <p className="status-note" role="status">
          {browserOnline && connection.state === "connected" && !signedOut && overdue(status.data)
            ? "This is taking longer than usual: the floor team has been alerted again."
            : ""}
        </p>
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
          onSeen={onSeen}
          emptyText="Ask the floor team anything: deposits, withdrawals, table bookings. A staff member will answer here."
        />
        {status.data?.lastResolved && !signedOut && (
          <RateChat
            chat={status.data.lastResolved}
            onRated={(rating) =>
              queryClient.setQueryData(statusOptions.queryKey, (s) =>
                s?.lastResolved ? { ...s, lastResolved: { ...s.lastResolved, rating } } : s,
              )
            }
          />
        )}
        <TypingIndicator name={typing.typingName} />
        <SlowDownNotice until={outbox.slowDownUntil} />
        <Composer
          draftKey={`player-${userId}`}
          onSend={(text, photo) => {
            outbox.enqueue(text, { photo });
            typing.sent();
          }}
          onTyping={typing.notifyTyping}
        />
      </main>
    </>
  );
}

/** After a chat is closed: five buttons, one press, stored once (the server refuses a second). */
function RateChat({
  chat,
  onRated,
}: {
  chat: { id: string; staffName: string | null; rating: number | null };
  onRated: (rating: number) => void;
}) {
  const trpc = useTRPC();
  const rate = useMutation(trpc.chat.rate.mutationOptions({ onSuccess: (r) => onRated(r.rating) }));
  if (chat.rating !== null) {
    return (
      <p role="status" className="rating done">
        You rated this chat {chat.rating} of 5 — thank you.
      </p>
    );
  }
  return (
    <fieldset className="rating" disabled={rate.isPending}>
      <legend>How was your chat{chat.staffName ? ` with ${chat.staffName}` : ""}?</legend>
      <div className="rating-buttons">
        {[1, 2, 3, 4, 5].map((n) => (
          <button
            key={n}
            type="button"
            aria-label={`${n} of 5`}
            onClick={() => rate.mutate({ requestId: chat.id, rating: n })}
          >
            {n} ★
          </button>
        ))}
      </div>
      <span className="small muted">1 is poor, 5 is excellent.</span>
      {rate.error && (
        <p role="alert" className="error">
          {plainError(rate.error)}
        </p>
      )}
    </fieldset>
  );
}

type PlayerStatus = {
  request: { id: string; status: string; escalatedAt: Date | null } | null;
  queuePosition: number | null;
  staffName: string | null;
  staffOnDuty: number | null;
  /** Median wait of the chats taken recently (server/chat/metrics.ts); null when there are none. */
  expectedWaitSeconds: number | null;
};

/** Still waiting past the escalation time (staff were alerted again). */
function overdue(s: PlayerStatus | undefined) {
  return s?.request?.status === "waiting" && s.request.escalatedAt !== null;
}

/** "about 3 min", rounded to what a player can act on; nothing when there is no recent history. */
function expectedWait(seconds: number | null) {
  if (seconds === null) return "";
  return seconds < 60 ? " · usual wait under a minute" : ` · usual wait about ${Math.round(seconds / 60)} min`;
}

/** One sentence that never contradicts the thread: who is with the player, or what happens next. */
function describeStatus(s: PlayerStatus | undefined, messages: readonly ChatMessage[]) {
  if (!s) return "";
  if (s.request?.status === "in_progress") return `${s.staffName ?? "A staff member"} is with you.`;
  const nobody =
    "Nobody from the floor team is on duty right now: leave a message — we answer as soon as someone is back.";
  if (s.staffOnDuty === 0) return nobody;
  const onDuty =
    s.staffOnDuty === null ? "" : s.staffOnDuty === 1 ? "1 staff member on duty" : `${s.staffOnDuty} staff on duty`;
  if (!s.request) return onDuty ? `${onDuty}. Write and we will answer here.` : "";
  const requestId = s.request.id;
  const seen = messages.some((m) => m.requestId === requestId && m.sender === "player" && m.status === "read");
  const place = s.queuePosition ? `you are number ${s.queuePosition} in the queue` : "you are in the queue";
  return `${seen ? "Staff have seen your message; " : "Waiting for staff: "}${place}${onDuty ? ` · ${onDuty}` : ""}${expectedWait(s.expectedWaitSeconds)}`;
}
