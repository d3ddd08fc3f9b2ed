"use client";

import { type RefObject, useId, useState } from "react";

export type CannedReply = { id: string; title: string; body: string };

/**
 * `/` at the start of an empty composer opens the canned replies; typing filters them, ↑/↓ pick,
 * Enter or Tab (or a click) puts the reply in the box to edit and send, Escape closes.
 * A listbox the textarea controls (aria-autocomplete="list", aria-activedescendant).
 */
export function useCannedPicker(box: RefObject<HTMLTextAreaElement | null>, replies: CannedReply[] | undefined) {
  const [query, setQuery] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const listId = useId();
  const matches =
    query === null || !replies
      ? []
      : replies.filter((r) => `${r.title} ${r.body}`.toLowerCase().includes(query.toLowerCase())).slice(0, 8);
  const open = query !== null && matches.length > 0;

  function insert(reply: CannedReply) {
    if (!box.current) return;
    box.current.value = reply.body;
    box.current.dispatchEvent(new Event("input", { bubbles: true }));
    box.current.focus();
    setQuery(null);
  }

  return {
    open,
    /** Call with the textarea's value on every input. */
    onInput(value: string) {
      const next = replies && value.startsWith("/") && !value.includes("\n") ? value.slice(1) : null;
      if (next !== query) setActive(0);
      setQuery(next);
    },
    /** True when the key was the picker's and must not reach the composer (Enter would send). */
    onKeyDown(e: React.KeyboardEvent<HTMLTextAreaElement>) {
      if (!open) return false;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        setActive((i) => (i + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length);
      } else if (e.key === "Enter" || e.key === "Tab") {
        const chosen = matches[active];
        if (chosen) insert(chosen);
      } else if (e.key === "Escape") {
        setQuery(null);
      } else {
        return false;
      }
      e.preventDefault();
      return true;
    },
    // The textarea keeps its textbox role (the composer is found as "Message" everywhere);
    // autocomplete + active descendant tell assistive tech about the list.
    comboboxProps: {
      "aria-controls": open ? listId : undefined,
      "aria-autocomplete": "list" as const,
      "aria-activedescendant": open ? `${listId}-${active}` : undefined,
    },
    list: open ? (
      <div id={listId} role="listbox" aria-label="Canned replies" className="canned-picker">
        {matches.map((r, i) => (
          <div
            key={r.id}
            tabIndex={-1}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === active}
            onMouseDown={(e) => {
              e.preventDefault(); // keep focus in the textarea
              insert(r);
            }}
          >
            <strong>{r.title}</strong> <span className="muted">{r.body}</span>
          </div>
        ))}
      </div>
    ) : null,
  };
}
