"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import { decodePayload, type MessageEvent, type StatusEvent } from "@/server/chat/announce";
import { EVENTS, STAFF_CHANNEL, viewingChannel } from "@/server/chat/channels";
import { Composer } from "../../_chat/composer";
import { MessageList } from "../../_chat/message-list";
import { applyMessage, markPlayerRead, upsertRequest } from "../../_chat/queue-cache";
import { flattenHistory, mergeIntoHistory, olderPage } from "../../_chat/thread-cache";
import { useCatchUp } from "../../_chat/use-catch-up";
import { useOutbox } from "../../_chat/use-outbox";
import { useReadReceipts } from "../../_chat/use-read-receipts";
import { useThreadSync } from "../../_chat/use-thread-sync";
import { TypingIndicator, useTyping } from "../../_chat/use-typing";
import { useChannel, useEvent } from "../../_realtime/provider";
import { useTRPC, useTRPCClient } from "../../_trpc/client";
import { usePageVisible } from "./use-page-visible";

export const THREAD_PAGE_SIZE = 50;

import type { StaffMe } from "./staff-portal";

const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR" });

export function Conversation({ requestId, me, onClose }: { requestId: string; me: StaffMe; onClose: () => void }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const conversation = useQuery(trpc.staff.conversation.queryOptions({ requestId }));
  const request = conversation.data?.request;
  const player = conversation.data?.player;

  const playerId = request?.playerId ?? 0;
  const threadOptions = trpc.staff.thread.infiniteQueryOptions(
    { playerId, limit: THREAD_PAGE_SIZE },
    { getNextPageParam: olderPage, enabled: !!request },
  );
  const thread = useInfiniteQuery(threadOptions);

  const sync = useThreadSync({
    queryKey: threadOptions.queryKey,
    fetchSince: (sinceSeq) => client.staff.threadSince.query({ playerId, sinceSeq }),
    mine: "staff",
  });
  const staffChannel = useChannel(STAFF_CHANNEL);

  // While this conversation is on a visible screen, the server sends its holder no push about it.
  const visible = usePageVisible();
  const viewing = useChannel(request && visible ? viewingChannel(request.playerId) : null);
  const typing = useTyping(viewing, { side: "staff" });
  useEvent(staffChannel, EVENTS.chatMessageReceived, (raw) => {
    const { message } = decodePayload<MessageEvent>(raw);
    if (message.playerId !== playerId) return;
    sync.receive([message]);
    if (message.sender === "player") typing.clearTyping();
  });
  useEvent(staffChannel, EVENTS.messageStatus, (raw) => {
    const change = decodePayload<StatusEvent>(raw);
    if (change.playerId === playerId) sync.setStatus(change);
  });
  useEvent(staffChannel, "pusher:subscription_succeeded", () => void sync.catchUp());
  useCatchUp(() => void sync.catchUp());

  // Our own changes come back in the mutation's answer (the fan-out skips this tab): write them in.
  const applyRequest = useCallback(
    (changed: ChatRequest, message?: ChatMessage) => {
      queryClient.setQueryData(trpc.staff.conversation.queryKey({ requestId: changed.id }), (c) =>
        c ? { ...c, request: changed } : c,
      );
      queryClient.setQueryData(trpc.staff.queue.queryKey(), (items) =>
        message ? applyMessage(items, message, changed) : upsertRequest(items, changed),
      );
    },
    [queryClient, trpc],
  );
  const onStored = useCallback(
    (message: ChatMessage) =>
      queryClient.setQueryData(threadOptions.queryKey, (data) => mergeIntoHistory(data, [message])),
    [queryClient, threadOptions.queryKey],
  );
  const outbox = useOutbox({
    owner: `staff-${me.id}-${requestId}`,
    send: async (entry) => {
      const result = await client.staff.reply.mutate({ requestId, id: entry.id, text: entry.text });
      applyRequest(result.request, result.message);
      return result.message;
    },
    onStored,
  });

  const action = { onSuccess: (changed: ChatRequest) => applyRequest(changed) };
  const claim = useMutation(trpc.staff.claim.mutationOptions(action));
  const resolve = useMutation(trpc.staff.resolve.mutationOptions(action));
  const reopen = useMutation(trpc.staff.reopen.mutationOptions(action));
  const actionError = claim.error ?? resolve.error ?? reopen.error;

  const messages = flattenHistory(thread.data);
  const markRead = useMutation(
    trpc.staff.markMessages.mutationOptions({
      // The server leaves this tab out of the message-status fan-out: apply it here.
      onSuccess: (change) => {
        sync.setStatus(change);
        queryClient.setQueryData(trpc.staff.queue.queryKey(), (items) => markPlayerRead(items, change.playerId));
      },
    }),
  );
  // Opening the conversation on a visible screen is what "read" means for the player.
  useReadReceipts(messages, "player", (upToSeq) => markRead.mutate({ playerId, status: "read", upToSeq }));

  if (conversation.isError) {
    return (
      <div className="conversation">
        <p role="alert" className="error">
          {conversation.error.message}
        </p>
        <button type="button" onClick={onClose}>
          Back to queue
        </button>
      </div>
    );
  }
  if (!request || !player) return <p className="muted centered">Loading conversation…</p>;

  const stored = new Set(messages.map((m) => m.id));
  const mine = request.status === "in_progress" && request.assignedStaffId === me.id;
  const canReply = request.status === "waiting" || mine;

  return (
    <div className="conversation">
      <div className="conversation-head">
        <button type="button" className="link-button back" onClick={onClose}>
          ← Queue
        </button>
        <section className="player-card" aria-label="Player">
          <h2>
            {player.displayName} <span className="muted">· Player ID {player.id}</span>
          </h2>
          <dl>
            <div>
              <dt>Balance</dt>
              <dd>{rupees.format(Number(player.balance))}</dd>
            </div>
            <div>
              <dt>Credit</dt>
              <dd>
                {rupees.format(Number(player.creditUsed))} of {rupees.format(Number(player.creditLimit))}
              </dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>
                {request.status === "waiting"
                  ? "Waiting"
                  : request.status === "in_progress"
                    ? mine
                      ? "With you"
                      : "With another staff member"
                    : "Resolved"}
              </dd>
            </div>
          </dl>
        </section>
        <div className="actions">
          {request.status === "waiting" && (
            <button type="button" onClick={() => claim.mutate({ requestId })} disabled={claim.isPending}>
              Take
            </button>
          )}
          {(request.status === "waiting" || mine) && (
            <button type="button" onClick={() => resolve.mutate({ requestId })} disabled={resolve.isPending}>
              Resolve
            </button>
          )}
          {request.status === "resolved" && (
            <button type="button" onClick={() => reopen.mutate({ requestId })} disabled={reopen.isPending}>
              Reopen
            </button>
          )}
        </div>
      </div>
      {actionError && (
        <p role="alert" className="error">
          {actionError.message}
        </p>
      )}
      <MessageList
        label={`Conversation with ${player.displayName}`}
        messages={messages}
        pending={outbox.entries.filter((e) => !stored.has(e.id))}
        online={outbox.online}
        mine="staff"
        viewerUserId={me.id}
        onRetry={outbox.retry}
        onDiscard={outbox.discard}
        hasOlder={thread.hasNextPage}
        loadingOlder={thread.isFetchingNextPage}
        onLoadOlder={() => void thread.fetchNextPage()}
        emptyText="No messages yet."
      />
      <TypingIndicator name={typing.typingName} />
      {canReply ? (
        <Composer
          onSend={(text) => {
            outbox.enqueue(text);
            typing.sent();
          }}
          onTyping={typing.notifyTyping}
          placeholder={`Reply to ${player.displayName}`}
        />
      ) : (
        <p className="muted composer-note">
          {request.status === "resolved"
            ? "This chat is resolved. Reopen it to reply."
            : "Another staff member is handling this chat."}
        </p>
      )}
    </div>
  );
}
