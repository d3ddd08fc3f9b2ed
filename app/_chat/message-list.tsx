"use client";

import { Fragment, useEffect, useRef, useState } from "react";
import type { ChatMessage } from "@/db/schema";
import { DEFAULT_PHOTO_TEXT } from "@/protocol/limits";
import { useSignedOut } from "../_auth/signed-out";
import { MessagePhoto, PendingPhoto, photoCaption } from "./message-photo";
import { dividerBefore, MessageText, MessageTime } from "./message-text";
import type { OutboxEntry } from "./outbox";
import { useThreadPosition } from "./use-thread-position";

const statusLabel = { sent: "Sent", received: "Delivered", read: "Read" } as const;

/**
 * The thread as an ARIA log. Text is rendered as text (React escapes it), so a message like
 * `<img onerror=…>` shows exactly what was typed.
 */
export function MessageList(props: {
  messages: ChatMessage[];
  pending: OutboxEntry[];
  online: boolean;
  /** Whose messages are "mine" (get receipt states and sit on the right). */
  mine: ChatMessage["sender"];
  /** Messages by this user read "You"; colleagues' replies keep their names. */
  viewerUserId: string;
  label: string;
  onRetry: (id: string) => void;
  onDiscard: (id: string) => void;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  emptyText: string;
  /** The newest seq the reader has seen: the thread was at its bottom with it laid out. */
  onSeen: (seq: number) => void;
}) {
  const signedOut = useSignedOut();
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const lastId = props.pending.at(-1)?.id ?? props.messages.at(-1)?.id;
  const lastSeq = props.messages.at(-1)?.seq ?? 0;

  // Where the reader is (use-thread-position.ts): at the bottom the thread follows new messages and
  // stays at its end through resizes; scrolled up it stays put, and what arrives meanwhile is
  // counted for the "N new messages ↓" control.
  const list = useRef<HTMLOListElement>(null);
  const position = useThreadPosition({ scroller, list, lastId, lastSeq, lastIsOwn: props.pending.length > 0 });
  const { atBottom, seenSeq } = position;
  const { onSeen } = props;
  useEffect(() => onSeen(seenSeq), [onSeen, seenSeq]);
  const unseen = props.messages.filter((m) => m.seq > seenSeq && isFromOtherSide(m, props.mine));
  // The "New messages" separator: before the first message from the other side that was unread
  // when the thread opened, or that arrived while the reader was scrolled up. It stays put
  // (reading them does not move it) for as long as this thread is on screen.
  const [unreadFrom, setUnreadFrom] = useState<number | null | undefined>(undefined);
  if (unreadFrom === undefined && props.messages.length > 0) {
    setUnreadFrom(props.messages.find((m) => isFromOtherSide(m, props.mine) && m.status !== "read")?.seq ?? null);
  } else if (unreadFrom === null && !atBottom && unseen[0]) {
    setUnreadFrom(unseen[0].seq);
  }
  const separatorSeq =
    unreadFrom == null ? null : props.messages.find((m) => m.seq >= unreadFrom && isFromOtherSide(m, props.mine))?.seq;

  const { hasOlder, loadingOlder, onLoadOlder } = props;
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasOlder) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loadingOlder) onLoadOlder();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasOlder, loadingOlder, onLoadOlder]);

  // The message times form one tab stop (the latest, or the one last focused); Up and Down move
  // between them, so a long thread costs a keyboard user one Tab, not one per message.
  const [timeSeq, setTimeSeq] = useState<number | null>(null);
  const timed = props.messages.filter((m) => m.sender !== "system");
  const tabbableSeq = timed.some((m) => m.seq === timeSeq) ? timeSeq : (timed.at(-1)?.seq ?? null);
  const onTimeKey = (e: React.KeyboardEvent<HTMLOListElement>) => {
    if (!(e.target instanceof HTMLTimeElement) || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    const times = [...e.currentTarget.querySelectorAll("time")];
    const next = times[times.indexOf(e.target) + (e.key === "ArrowUp" ? -1 : 1)];
    if (!next) return;
    e.preventDefault();
    next.focus();
  };
  const onTimeFocus = (e: React.FocusEvent<HTMLOListElement>) => {
    const row = e.target instanceof HTMLTimeElement ? e.target.closest<HTMLElement>("li[data-seq]") : null;
    if (row) setTimeSeq(Number(row.dataset.seq));
  };

  const toBottom = () => {
    position.toBottom();
    // The control goes away with the click: the thread itself takes the focus.
    scroller.current?.focus();
  };

  return (
    <div className="thread-frame">
      {/* The scroll container is the log: focusable so keyboard users can scroll it, and named. */}
      <div
        ref={scroller}
        className="thread"
        role="log"
        aria-live="polite"
        aria-label={props.label}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
        onScroll={position.onScroll}
      >
        {props.hasOlder && (
          <div ref={sentinel} className="older">
            <button type="button" className="link-button" onClick={props.onLoadOlder} disabled={props.loadingOlder}>
              {props.loadingOlder ? "Loading earlier messages…" : "Load earlier messages"}
            </button>
          </div>
        )}
        {/* Arrow keys move between the message times inside (see onTimeKey). */}
        <ol ref={list} className="messages" onKeyDown={onTimeKey} onFocus={onTimeFocus}>
          {props.messages.length === 0 && props.pending.length === 0 && <li className="empty">{props.emptyText}</li>}
          {props.messages.map((m, i) => {
            const divider = dividerBefore(m, props.messages[i - 1]);
            return (
              <Fragment key={m.id}>
                {divider && <Divider label={divider} />}
                {m.seq === separatorSeq && <Divider label="New messages" className="unread" />}
                {m.sender === "system" ? (
                  <li className="message system" data-seq={m.seq}>
                    <MessageText text={m.messageText} />
                  </li>
                ) : (
                  <li className={`message ${m.sender === props.mine ? "mine" : m.sender}`} data-seq={m.seq}>
                    <span className="who">{m.senderUserId === props.viewerUserId ? "You" : m.senderName}</span>
                    {m.photo && <MessagePhoto message={m} photo={m.photo} />}
                    {(!m.photo || photoCaption(m)) && <MessageText text={m.messageText} />}
                    <span className="meta">
                      <MessageTime at={m.timestamp} tabbable={m.seq === tabbableSeq} />
                      {m.sender === props.mine && <span className="receipt"> · {statusLabel[m.status]}</span>}
                    </span>
                  </li>
                )}
              </Fragment>
            );
          })}
          {props.pending.map((p) => (
            <li key={p.id} className={`message mine pending ${p.state}`}>
              <span className="who">You</span>
              {p.photo && <PendingPhoto id={p.id} />}
              {p.photo && !photoCaption({ messageText: p.text || DEFAULT_PHOTO_TEXT }) ? null : (
                <MessageText text={p.text} />
              )}
              <span className="meta">
                {signedOut && p.state !== "failed" ? (
                  // Kept in the outbox: the header's link signs in and comes back here to send it.
                  <span className="receipt">Waiting for you to sign in</span>
                ) : p.state === "failed" ? (
                  <>
                    <span className="error">Not sent: {p.error}</span>{" "}
                    <button type="button" className="link-button" onClick={() => props.onRetry(p.id)}>
                      Retry
                    </button>{" "}
                    <button type="button" className="link-button" onClick={() => props.onDiscard(p.id)}>
                      Discard
                    </button>
                  </>
                ) : (
                  <span className="receipt">{props.online ? "Sending…" : "Waiting for connection"}</span>
                )}
              </span>
            </li>
          ))}
        </ol>
      </div>
      {!atBottom && unseen.length > 0 && (
        <button type="button" className="new-messages" onClick={toBottom}>
          {unseen.length === 1 ? "1 new message" : `${unseen.length} new messages`} ↓
        </button>
      )}
    </div>
  );
}

/** Another person's words (or theirs as sent from elsewhere): not "mine", not a system line. */
function isFromOtherSide(m: ChatMessage, mine: ChatMessage["sender"]) {
  return m.sender !== mine && m.sender !== "system";
}

function Divider({ label, className }: { label: string; className?: string }) {
  return (
    <li className={className ? `divider ${className}` : "divider"}>
      {/* biome-ignore lint/a11y/useSemanticElements: an <hr> cannot show the day it divides */}
      <span role="separator" aria-label={label}>
        {label}
      </span>
    </li>
  );
}
