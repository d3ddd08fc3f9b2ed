"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { EVENTS, STAFF_CHANNEL, viewingChannel } from "@/protocol/channels";
import { Composer } from "../../_chat/composer";
import { MessageList } from "../../_chat/message-list";
import { markPlayerRead, mergeFetchedConversation } from "../../_chat/queue-cache";
import { useThreadSync } from "../../_chat/use-thread-sync";
import { TypingIndicator, useTyping } from "../../_chat/use-typing";
import { useChannel } from "../../_realtime/provider";
import { useTRPC, useTRPCClient } from "../../_trpc/client";
import { plainError } from "../../_trpc/plain-error";
import { HoldActions, NotesAndTimeline } from "./floor-tools";
import { useStaffCaches } from "./staff-caches";
import { useStaffOutbox } from "./staff-outbox";
import type { StaffMe } from "./staff-portal";
import { usePageVisible } from "./use-page-visible";

const STAFF_THREAD_EVENTS = [EVENTS.chatMessageReceived];

const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR" });

export function Conversation({
  requestId,
  me,
  onClose,
  onOpen,
}: {
  requestId: string;
  me: StaffMe;
  onClose: () => void;
  onOpen: (requestId: string) => void;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const caches = useStaffCaches();
  const outbox = useStaffOutbox();
  const conversation = useQuery({
    ...trpc.staff.conversation.queryOptions({ requestId }),
    // A refetch that read the row before an event we applied must not take us back.
    structuralSharing: mergeFetchedConversation,
  });
  const request = conversation.data?.request;
  const player = conversation.data?.player;

  const playerId = request?.playerId ?? 0;
  const threadOptions = caches.threadOptions(playerId, !!request);
  const thread = useInfiniteQuery(threadOptions);
  const { messages, onSeen } = useThreadSync({
    queryKey: threadOptions.queryKey,
    data: thread.data,
    playerId: request?.playerId ?? null,
    // Full rows for staff: the player's channel carries the player's view of them.
    channelName: STAFF_CHANNEL,
    messageEvents: STAFF_THREAD_EVENTS,
    fetchSince: (sinceSeq) => client.staff.threadSince.query({ playerId, sinceSeq }),
    mine: "staff",
    // Opening the conversation on a visible screen is what "read" means for the player.
    markRead: async (upToSeq) => {
      const change = await client.staff.markMessages.mutate({ playerId, status: "read", upToSeq });
      queryClient.setQueryData(trpc.staff.queue.queryKey(), (items) => markPlayerRead(items, change.playerId));
      return change;
    },
    onMessage: (message) => {
      if (message.sender === "player") typing.clearTyping();
    },
  });
  // While this conversation is on a visible screen, the server sends its holder no push about it.
  const visible = usePageVisible();
  const viewing = useChannel(request && visible ? viewingChannel(request.playerId) : null);
  const typing = useTyping(viewing, { side: "staff" });

  // Our own changes come back in the mutation's answer (the fan-out skips this tab): write them in.
  const root = useRef<HTMLDivElement>(null);
  const { told, done } = useActionResult(root);
  const action = (told: string, focus: FocusTarget) => ({
    onSuccess: (changed: NonNullable<typeof request>) => {
      caches.applyRequest(changed);
      done(told, focus);
    },
  });
  const claim = useMutation(trpc.staff.claim.mutationOptions(action("You took this chat", "composer")));
  const resolve = useMutation(trpc.staff.resolve.mutationOptions(action("Chat resolved", "heading")));
  const reopen = useMutation(trpc.staff.reopen.mutationOptions(action("Chat reopened", "composer")));
  const canned = useQuery(trpc.staff.cannedReplies.queryOptions());
  const actionError = claim.error ?? resolve.error ?? reopen.error;

  if (conversation.isError) {
    return (
      <div className="conversation">
        <p role="alert" className="error">
          {plainError(conversation.error, { notFound: "This chat could not be found. The link may be broken." })}
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
  // One change of state at a time: Resolve clicked while Take is on its way could reach the server
  // first and close the chat untaken (no one named to the player, no one to rate).
  const changing = claim.isPending || resolve.isPending || reopen.isPending;
  // The player wrote again after this chat closed: their new chat is where the conversation goes on,
  // and reopening this one would be refused.
  const newest = messages.at(-1);
  const newerChat = request.status === "resolved" && newest && newest.requestId !== requestId ? newest.requestId : null;

  return (
    <div className="conversation" ref={root}>
      <div className="conversation-head">
        <button type="button" className="link-button back" onClick={onClose}>
          ← Queue
        </button>
        <section className="player-card" aria-label="Player">
          <h2 tabIndex={-1}>
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
            {conversation.data?.rating != null && (
              <div>
                <dt>Rating</dt>
                <dd>Rated {conversation.data.rating} of 5 by the player</dd>
              </div>
            )}
          </dl>
        </section>
        <div className="actions">
          {request.status === "waiting" && (
            <button type="button" onClick={() => claim.mutate({ requestId })} disabled={changing}>
              Take
            </button>
          )}
          {(request.status === "waiting" || mine) && (
            <button type="button" onClick={() => resolve.mutate({ requestId })} disabled={changing}>
              Resolve
            </button>
          )}
          {request.status === "resolved" && !newerChat && (
            <button type="button" onClick={() => reopen.mutate({ requestId })} disabled={changing}>
              Reopen
            </button>
          )}
          <HoldActions request={request} meId={me.id} onDone={done} />
        </div>
      </div>
      <p role="status" className="visually-hidden">
        {told}
      </p>
      {newerChat && (
        <p className="notice">
          <button type="button" onClick={() => onOpen(newerChat)}>
            {player.displayName} started a new chat — open it
          </button>
        </p>
      )}
      {actionError && (
        <p role="alert" className="error">
          {plainError(actionError)}
        </p>
      )}
      <NotesAndTimeline request={request} />
      <MessageList
        label={`Conversation with ${player.displayName}`}
        messages={messages}
        pending={outbox.entries.filter((e) => e.requestId === requestId && !stored.has(e.id))}
        online={outbox.online}
        mine="staff"
        viewerUserId={me.id}
        onRetry={outbox.retry}
        onDiscard={outbox.discard}
        hasOlder={thread.hasNextPage}
        loadingOlder={thread.isFetchingNextPage}
        onLoadOlder={() => void thread.fetchNextPage()}
        emptyText="No messages yet."
        onSeen={onSeen}
      />
      <TypingIndicator name={typing.typingName} />
      {canReply ? (
        <Composer
          draftKey={`staff-${me.id}-${requestId}`}
          onSend={(text, photo) => {
            outbox.enqueue(text, { requestId, photo });
            typing.sent();
          }}
          onTyping={typing.notifyTyping}
          placeholder={`Reply to ${player.displayName} (/ for canned replies)`}
          cannedReplies={canned.data}
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

type FocusTarget = "composer" | "heading";

/**
 * After Take / Resolve / Reopen / Transfer the pressed button is gone: say what happened in the pane's live
 * region and move focus where the next step is (the reply box, or the player's name). Focus moves
 * once the new state has rendered, so the reply box exists when the chat has just become ours.
 */
function useActionResult(root: React.RefObject<HTMLDivElement | null>) {
  const [result, setResult] = useState<{ told: string; focus: FocusTarget; at: number } | null>(null);
  const focused = useRef(0);
  useEffect(() => {
    const pane = root.current;
    if (!result || !pane || focused.current === result.at) return;
    const target =
      result.focus === "composer" ? pane.querySelector<HTMLElement>("textarea") : pane.querySelector<HTMLElement>("h2");
    if (!target) return;
    target.focus();
    focused.current = result.at;
  });
  return {
    told: result?.told ?? "",
    done: (told: string, focus: FocusTarget) => setResult({ told, focus, at: Date.now() }),
  };
}
