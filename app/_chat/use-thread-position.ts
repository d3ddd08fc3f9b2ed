"use client";

import { type RefObject, useEffect, useLayoutEffect, useRef, useState } from "react";

/** This close to the end (px) the reader counts as at the bottom. */
const NEAR_BOTTOM = 80;

/** Where the reader was when last measured: what renders and resizes keep. */
type Place = {
  /** scrollTop then: a different one now means the reader scrolled (its event may still be on its way). */
  top: number;
  /** At the bottom: the thread follows new messages and stays at its end through resizes. */
  pinned: boolean;
  /** Scrolled up: the first row in view and its top from the view's top, kept through resizes. */
  anchor: Element | null;
  anchorAt: number;
  /** The thread's last row then: "was the reader at the bottom" means "was this row in view". */
  last: Element | null;
  lastId: string | undefined;
  lastSeq: number;
};

/**
 * Where the reader is in a thread (`scroller`, the log; `list`, its rows), kept through new
 * messages and resizes (a phone's keyboard opening, a window resized, the composer growing) as a
 * chat keeps it: at the bottom the thread follows new messages and stays at its end; scrolled up,
 * the message at the top of the view stays put and what arrives is counted ("N new messages ↓").
 *
 * The reader's place changes only where it is measured — their scroll events, and a scrollTop
 * that differs from the one recorded (a scroll whose event the browser has not fired yet: it fires
 * at the next frame) — never from a render or a resize alone. So a resize that leaves a reader at
 * the bottom with the end out of view (the view shrank under them) keeps them at the bottom, and a
 * reader who scrolled up in the frame a reply arrived is judged from where they are against the
 * rows as laid out now.
 */
export function useThreadPosition(opts: {
  scroller: RefObject<HTMLDivElement | null>;
  list: RefObject<HTMLOListElement | null>;
  lastId: string | undefined;
  lastSeq: number;
  /** The last row is the reader's own, still in their outbox: one they just sent. */
  lastIsOwn: boolean;
}) {
  const { scroller, list, lastId, lastSeq, lastIsOwn } = opts;
  const [atBottom, setAtBottom] = useState(true);
  // The newest seq laid out while the reader was at the bottom: what they have seen.
  const [seenSeq, setSeenSeq] = useState(lastSeq);
  const place = useRef<Place>({
    top: 0,
    pinned: true,
    anchor: null,
    anchorAt: 0,
    last: null,
    lastId: undefined,
    lastSeq: 0,
  });
  // The newest seq rendered, for the resize observer's callback.
  const renderedSeq = useRef(lastSeq);

  const record = (el: HTMLDivElement, pinned: boolean) => {
    const p = place.current;
    p.top = el.scrollTop;
    p.pinned = pinned;
    const rows = list.current?.children;
    p.last = rows?.[rows.length - 1] ?? null;
    const anchor = rows ? firstRowInView(el, rows) : null;
    p.anchor = anchor;
    p.anchorAt = anchor ? topInView(el, anchor) : 0;
    setAtBottom(pinned);
    if (pinned) setSeenSeq(renderedSeq.current);
  };

  // Keeps the reader's place after the thread or its view changed size: at the end if they were at
  // the bottom, else the anchor row where it was. A reader who has scrolled since is measured instead.
  const keep = (el: HTMLDivElement) => {
    const p = place.current;
    if (moved(el, p)) return record(el, endInView(el));
    if (p.pinned) toEnd(el);
    else holdAnchor(el, p);
    record(el, p.pinned || endInView(el));
  };

  // After every render (before paint): a new last row is followed if it is the reader's own send (a
  // chat goes down to what you just sent, wherever you were) or if the reader was at the bottom
  // before it was laid out: still pinned and not scrolled since, or the previous last row, as laid
  // out now, in view. Otherwise (older messages above, a status changing) the place is kept.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    renderedSeq.current = lastSeq;
    const p = place.current;
    const sent = lastIsOwn && lastId !== p.lastId;
    const arrived = lastId !== p.lastId || lastSeq !== p.lastSeq;
    p.lastId = lastId;
    p.lastSeq = lastSeq;
    if (!arrived) return keep(el);
    const scrolled = moved(el, p);
    const follow = sent || (p.pinned && !scrolled) || rowEndInView(el, p.last);
    if (follow) toEnd(el);
    else if (!scrolled) holdAnchor(el, p);
    record(el, follow || endInView(el));
  });

  // Resizes of the view (window, keyboard, composer) and of the rows (text reflowing, photos).
  // biome-ignore lint/correctness/useExhaustiveDependencies: once; keep reads the latest refs
  useEffect(() => {
    const el = scroller.current;
    const rows = list.current;
    if (!el || !rows) return;
    const observer = new ResizeObserver(() => keep(el));
    observer.observe(el);
    observer.observe(rows);
    return () => observer.disconnect();
  }, []);

  return {
    atBottom,
    seenSeq,
    /** The log's scroll handler: the reader's own scrolls (ours are recorded where they are made). */
    onScroll: (e: React.UIEvent<HTMLDivElement>) => {
      const el = e.currentTarget;
      if (moved(el, place.current)) record(el, endInView(el));
    },
    toBottom: () => {
      const el = scroller.current;
      if (!el) return;
      toEnd(el);
      record(el, true);
    },
  };
}

function holdAnchor(el: HTMLElement, p: Place) {
  if (!p.anchor?.isConnected) return;
  const by = topInView(el, p.anchor) - p.anchorAt;
  if (Math.abs(by) >= 1) el.scrollTop += by;
}

function moved(el: HTMLElement, p: Place) {
  return Math.abs(el.scrollTop - p.top) >= 1;
}

function toEnd(el: HTMLElement) {
  if (el.scrollHeight - el.clientHeight - el.scrollTop >= 1) el.scrollTop = el.scrollHeight;
}

function endInView(el: HTMLElement) {
  return el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
}

/** The top of the view (inside the log's border), in the viewport's coordinates. */
function viewTop(el: HTMLElement) {
  return el.getBoundingClientRect().top + el.clientTop;
}

function rowEndInView(el: HTMLElement, row: Element | null) {
  if (!row?.isConnected) return endInView(el);
  return row.getBoundingClientRect().bottom - (viewTop(el) + el.clientHeight) < NEAR_BOTTOM;
}

function topInView(el: HTMLElement, row: Element) {
  return row.getBoundingClientRect().top - viewTop(el);
}

/**
 * The first row whose bottom is below the view's top (rows are in order: a binary search), or the
 * message after it if that is a divider: dividers come and go as older messages load above.
 */
function firstRowInView(el: HTMLElement, rows: HTMLCollection) {
  const top = viewTop(el);
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((rows[mid]?.getBoundingClientRect().bottom ?? 0) > top) hi = mid;
    else lo = mid + 1;
  }
  for (let i = lo; i < rows.length; i++) if (!rows[i]?.classList.contains("divider")) return rows[i] ?? null;
  return rows[lo] ?? null;
}
