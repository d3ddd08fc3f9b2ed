"use client";

import { useSyncExternalStore } from "react";

/**
 * One leader among this browser's open staff tabs, so a new chat chimes and notifies once, not
 * once per tab. Tabs talk over a BroadcastChannel:
 *
 * - `hello`: a numbered ping, sent on start and on every heartbeat (`tick`). Every live tab
 *   answers it at once.
 * - `here`: the answer (addressed to the pinging tab, echoing the ping number), or, unaddressed,
 *   the announcement of a changed rank/info. Never answered, so there is no echo storm.
 * - `bye`: sent when a tab stops (the page calls `stop` on `pagehide`), so the next one leads at once.
 *
 * Liveness is counted in pings, not milliseconds: at each tick a tab forgets the peers that did
 * not answer its previous ping. Background tabs get their timers throttled (in Chrome down to
 * once a minute), but they still receive and answer messages promptly; a clock-based timeout
 * would declare a throttled leader dead while it is still alerting, and two tabs would chime.
 * For a known tab only an answer to the current ping counts, so a message a dead tab sent just
 * before dying does not keep it alive.
 *
 * The leader is the tab with the lowest `rank`, then the lowest id. Ids start with the start
 * time, so the oldest tab leads and a newly opened tab never takes over; rank lets a tab that can
 * actually play sound (the person has clicked in it) win over one that cannot.
 * A tab does not lead before its first tick, so a new tab has time to hear the incumbent.
 */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

type Message<Info> =
  | { type: "hello"; id: string; rank: number; info: Info; ping: number }
  | { type: "here"; id: string; rank: number; info: Info; to?: string; ping?: number }
  | { type: "bye"; id: string };

export type PeerTab<Info> = {
  id: string;
  rank: number;
  info: Info;
  /** Answered this tab's latest ping (or was first heard since it). */
  fresh: boolean;
};

function parse<Info>(data: unknown): Message<Info> | null {
  if (typeof data !== "object" || data === null) return null;
  const m = data as Record<string, unknown>;
  if (typeof m.id !== "string") return null;
  if (m.type === "bye") return { type: "bye", id: m.id };
  if (typeof m.rank !== "number" || !("info" in m)) return null;
  const info = m.info as Info;
  if (m.type === "hello" && typeof m.ping === "number")
    return { type: "hello", id: m.id, rank: m.rank, info, ping: m.ping };
  if (m.type === "here") {
    const answer = typeof m.to === "string" && typeof m.ping === "number" ? { to: m.to, ping: m.ping } : {};
    return { type: "here", id: m.id, rank: m.rank, info, ...answer };
  }
  return null;
}

export class TabLeaderElection<Info> {
  readonly id: string;
  private readonly channel: ChannelLike;
  private rank: number;
  private info: Info;
  /** Peers, with the latest of this tab's pings each one answered. */
  private readonly peerMap = new Map<string, { rank: number; info: Info; answered: number }>();
  private ping = 0;
  private settled = false;
  private running = false;
  private leading = false;
  private readonly listeners = new Set<() => void>();

  constructor(opts: { id: string; channel: ChannelLike; info: Info; rank?: number }) {
    this.id = opts.id;
    this.channel = opts.channel;
    this.info = opts.info;
    this.rank = opts.rank ?? 0;
  }

  start() {
    if (this.running) return this;
    this.running = true;
    this.channel.addEventListener("message", this.onMessage);
    this.post({ type: "hello", id: this.id, rank: this.rank, info: this.info, ping: this.ping });
    this.changed();
    return this;
  }

  /** The heartbeat: drop peers that missed the last ping, ping again, and re-elect. */
  tick() {
    if (!this.running) return;
    for (const [id, peer] of this.peerMap) if (peer.answered < this.ping) this.peerMap.delete(id);
    this.ping += 1;
    this.settled = true;
    this.post({ type: "hello", id: this.id, rank: this.rank, info: this.info, ping: this.ping });
    this.changed();
  }

  /** Leaves the election; the others elect a new leader as soon as they read the goodbye. */
  stop() {
    if (!this.running) return;
    this.post({ type: "bye", id: this.id });
    this.running = false;
    this.channel.removeEventListener("message", this.onMessage);
    this.peerMap.clear();
    this.changed();
  }

  update(next: { rank?: number; info?: Info }) {
    if (next.rank !== undefined) this.rank = next.rank;
    if (next.info !== undefined) this.info = next.info;
    if (!this.running) return;
    this.post({ type: "here", id: this.id, rank: this.rank, info: this.info });
    this.changed();
  }

  isLeader() {
    return this.leading;
  }

  /** The other tabs currently believed alive. */
  peers(): PeerTab<Info>[] {
    return [...this.peerMap].map(([id, p]) => ({ id, rank: p.rank, info: p.info, fresh: p.answered === this.ping }));
  }

  /** Called after every change of state: a message handled, a tick, an update. */
  subscribe(listener: () => void) {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private readonly onMessage = (event: MessageEvent) => {
    const message = parse<Info>(event.data);
    if (!message || message.id === this.id || !this.running) return;
    if (message.type === "bye") {
      this.peerMap.delete(message.id);
    } else {
      const known = this.peerMap.get(message.id);
      const answersMyPing = message.type === "here" && message.to === this.id && message.ping === this.ping;
      // A tab heard for the first time is alive now; a known one must answer each ping.
      const answered = answersMyPing || !known ? this.ping : known.answered;
      this.peerMap.set(message.id, { rank: message.rank, info: message.info, answered });
    }
    if (message.type === "hello") {
      this.post({ type: "here", id: this.id, rank: this.rank, info: this.info, to: message.id, ping: message.ping });
    }
    this.changed();
  };

  private post(message: Message<Info>) {
    try {
      this.channel.postMessage(message);
    } catch {
      // A closed channel (page being torn down): nothing left to tell.
    }
  }

  private changed() {
    let best: { id: string; rank: number } = { id: this.id, rank: this.rank };
    for (const peer of this.peers()) {
      if (peer.rank < best.rank || (peer.rank === best.rank && peer.id < best.id)) best = peer;
    }
    this.leading = this.running && this.settled && best.id === this.id;
    for (const listener of [...this.listeners]) listener();
  }
}

/** Sortable by age: a zero-padded start time, then randomness for tabs started in the same ms. */
export function newTabId(now = Date.now()) {
  // Not crypto.randomUUID: it is missing outside secure contexts (a club LAN over plain http).
  return `${now.toString(36).padStart(10, "0")}-${Math.random().toString(36).slice(2, 10)}`;
}

// ---------------------------------------------------------------------------------------------
// Browser glue: one election per page, shared by every hook that asks.

/** What each staff tab tells the others, so the leader does not alert about what is on screen. */
export type StaffTabInfo = { visible: boolean; viewing: string | null };

/** The protocol version is in the name, so tabs running another version never mix with these. */
export const STAFF_TABS_CHANNEL = "floorline-staff-tabs:v1";
const HEARTBEAT_MS = 1000;
/** Time for the other tabs to answer a new tab's hello before it may lead. */
const SETTLE_MS = 300;

let own: { rank: number; info: StaffTabInfo } = { rank: 1, info: { visible: false, viewing: null } };
let election: TabLeaderElection<StaffTabInfo> | null = null;
let users = 0;
let alone = false;
let teardown: (() => void) | null = null;
const pageListeners = new Set<() => void>();
const notifyPage = () => {
  for (const listener of [...pageListeners]) listener();
};

function begin() {
  if (typeof BroadcastChannel === "undefined") {
    alone = true; // nobody to coordinate with: this tab leads
    notifyPage();
    return;
  }
  const run = () => {
    const channel = new BroadcastChannel(STAFF_TABS_CHANNEL);
    const current = new TabLeaderElection<StaffTabInfo>({ id: newTabId(), channel, ...own });
    const unsubscribe = current.subscribe(notifyPage);
    election = current;
    current.start();
    const settle = setTimeout(() => current.tick(), SETTLE_MS);
    const heartbeat = setInterval(() => current.tick(), HEARTBEAT_MS);
    return () => {
      clearTimeout(settle);
      clearInterval(heartbeat);
      current.stop();
      unsubscribe();
      channel.close();
      if (election === current) election = null;
      notifyPage();
    };
  };
  let stopCurrent: (() => void) | null = run();
  // Resign as the page goes away, so another tab leads now rather than after missed pings.
  const onPageHide = () => {
    stopCurrent?.();
    stopCurrent = null;
  };
  // Back from the back/forward cache: rejoin as a new (youngest) tab.
  const onPageShow = (event: PageTransitionEvent) => {
    if (event.persisted && !stopCurrent) stopCurrent = run();
  };
  window.addEventListener("pagehide", onPageHide);
  window.addEventListener("pageshow", onPageShow);
  teardown = () => {
    window.removeEventListener("pagehide", onPageHide);
    window.removeEventListener("pageshow", onPageShow);
    onPageHide();
  };
}

function subscribePage(listener: () => void) {
  pageListeners.add(listener);
  users += 1;
  if (users === 1) begin();
  return () => {
    pageListeners.delete(listener);
    users -= 1;
    if (users === 0) {
      teardown?.();
      teardown = null;
      alone = false;
    }
  };
}

/** Whether this tab leads right now (read at the moment of an event, not from a render). */
export function isLeaderTabNow() {
  return alone ? users > 0 : (election?.isLeader() ?? false);
}

/** True in exactly one of this browser's staff tabs (false during server rendering). */
export function useIsLeaderTab() {
  return useSyncExternalStore(subscribePage, isLeaderTabNow, () => false);
}

/** Tells the other tabs this tab's rank (0 = can play sound) and what it shows. */
export function shareTabState(next: { rank?: number; info?: StaffTabInfo }) {
  own = { rank: next.rank ?? own.rank, info: next.info ?? own.info };
  election?.update(next);
}

/** What the other live staff tabs of this browser have on screen. */
export function otherTabStates(): StaffTabInfo[] {
  return election?.peers().map((peer) => peer.info) ?? [];
}
