"use client";

import Link from "next/link";
import { useId } from "react";
import type { QueueItem } from "@/protocol/events";
import { formatAge, useNow } from "./use-now";

export function QueueSection(props: {
  title: string;
  items: QueueItem[];
  selectedId: string | null;
  /** Where an item leads: the chat is in the URL, so an item is a plain link. */
  hrefOf: (id: string) => string;
  ageOf: (item: QueueItem) => Date;
  agePrefix: string;
  empty: string;
  toolbar?: React.ReactNode;
}) {
  const now = useNow();
  const headingId = `queue-${props.title.toLowerCase().replace(/\s+/g, "-")}`;
  return (
    <section aria-labelledby={headingId} className="queue-section">
      <div className="queue-heading">
        <h2 id={headingId}>
          {props.title} <span className="count">{props.items.length}</span>
        </h2>
        {props.toolbar}
      </div>
      {props.items.length === 0 ? (
        <p className="muted small">{props.empty}</p>
      ) : (
        <ul className="queue-list">
          {props.items.map((item) => (
            <QueueRow
              key={item.id}
              item={item}
              href={props.hrefOf(item.id)}
              selected={item.id === props.selectedId}
              age={`${props.agePrefix} ${formatAge(props.ageOf(item), now)}`}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function QueueRow({ item, href, selected, age }: { item: QueueItem; href: string; selected: boolean; age: string }) {
  // React's short ids, not ones made from the request's uuid: a row names its parts six times, so
  // uuid-based ids were a third of the staff page's HTML at 120 chats (issue 11).
  const id = useId();
  // Waited past the escalation time and still waits: colour, icon and words, not colour alone.
  const overdue = item.status === "waiting" && item.escalatedAt !== null;
  return (
    <li>
      {/* Named by who it is (and unread count) only: the preview and the ticking age are its
        description, so the name a screen reader hears stays short and stable. A link, not
        a button: a click before the page has hydrated still opens the chat. No prefetch:
        each item would render the whole portal on the server. */}
      <Link
        href={href}
        prefetch={false}
        scroll={false}
        className={overdue ? "queue-item overdue" : "queue-item"}
        aria-labelledby={`${id}n ${id}u`}
        aria-describedby={`${id}o ${id}p`}
        aria-current={selected ? "true" : undefined}
      >
        <span className="queue-name" id={`${id}n`}>
          {item.playerName} <span className="muted">· Player ID {item.playerId}</span>
        </span>
        {overdue && (
          <span className="queue-overdue" id={`${id}o`}>
            <span aria-hidden="true">⚠ </span>Overdue — waiting too long
          </span>
        )}
        <span className="queue-preview" id={`${id}p`}>
          {item.lastMessage
            ? `${item.lastMessage.sender === "staff" ? "Staff: " : ""}${item.lastMessage.messageText}`
            : item.initialMessage}
        </span>
        <span className="queue-meta">
          <span suppressHydrationWarning>{age}</span>
          <span id={`${id}u`}>{item.unreadCount > 0 && <span className="badge">{item.unreadCount} unread</span>}</span>
        </span>
      </Link>
    </li>
  );
}
