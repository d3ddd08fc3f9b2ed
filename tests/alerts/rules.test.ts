import { describe, expect, it } from "vitest";
import { describePushError, pushSupportProblem, withTimeout } from "@/app/(staff)/staff/alerts/onesignal";
import {
  type AlertContext,
  type AlertEvent,
  alertKey,
  attentionCount,
  decideAlert,
  firstSighting,
  preview,
  requestUrl,
  stripTitleCount,
  titleWithCount,
} from "@/app/(staff)/staff/alerts/rules";
import { chimeDue, MUTE_STORAGE_KEY, readMuted, writeMuted } from "@/app/(staff)/staff/alerts/sound";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import type { QueueItem } from "@/protocol/events";

const request = (over: Partial<ChatRequest> = {}): ChatRequest => ({
  id: "r1",
  playerId: 29,
  playerName: "Ravi",
  initialMessage: "help with a deposit",
  status: "waiting",
  assignedStaffId: null,
  createdAt: new Date(0),
  claimedAt: null,
  firstResponseAt: null,
  resolvedAt: null,
  lastMessageAt: new Date(0),
  escalatedAt: null,
  version: 1,
  lastMessageSeq: null,
  lastMessageSender: null,
  lastMessageText: null,
  lastMessageSentAt: null,
  unreadCount: 0,
  ...over,
});
const message = (over: Partial<ChatMessage> = {}): ChatMessage => ({
  id: "m1",
  requestId: "r1",
  playerId: 29,
  seq: 2,
  sender: "player",
  senderName: "Ravi",
  senderUserId: null,
  messageText: "are you there?",
  timestamp: new Date(0),
  status: "sent",
  photo: null,
  ...over,
});
const ctx: AlertContext = { meId: "me", acceptingChats: true, onScreen: [null], anyTabVisible: true };
const mine = request({ status: "in_progress", assignedStaffId: "me" });
const playerMessage: AlertEvent = { kind: "player-message", request: mine, message: message() };

describe("which events alert", () => {
  it("a new request alerts, with the player's name and their first message", () => {
    expect(decideAlert({ kind: "new-request", request: request() }, ctx)).toEqual({
      requestId: "r1",
      title: "New chat: Ravi",
      body: "help with a deposit",
      notify: false,
    });
  });

  it("an escalated request alerts again while it still waits", () => {
    expect(decideAlert({ kind: "escalated", request: request() }, ctx)?.title).toBe("Still waiting: Ravi");
    const taken = request({ status: "in_progress", assignedStaffId: "other" });
    expect(decideAlert({ kind: "escalated", request: taken }, ctx)).toBeNull();
  });

  it("off duty: no alert for new or escalated requests, still for my own chats", () => {
    const off = { ...ctx, acceptingChats: false };
    expect(decideAlert({ kind: "new-request", request: request() }, off)).toBeNull();
    expect(decideAlert({ kind: "escalated", request: request() }, off)).toBeNull();
    expect(decideAlert(playerMessage, off)?.title).toBe("Message from Ravi");
  });

  it("a player's message alerts only in a chat assigned to me", () => {
    expect(decideAlert(playerMessage, ctx)?.body).toBe("are you there?");
    const others = request({ status: "in_progress", assignedStaffId: "other" });
    expect(decideAlert({ ...playerMessage, request: others }, ctx)).toBeNull();
    expect(decideAlert({ ...playerMessage, request: request() }, ctx)).toBeNull(); // waiting, nobody's yet
    expect(decideAlert({ ...playerMessage, message: message({ sender: "staff" }) }, ctx)).toBeNull();
  });

  it("no alert for the conversation open on a visible tab, this one or another", () => {
    expect(decideAlert(playerMessage, { ...ctx, onScreen: ["r1"] })).toBeNull();
    expect(decideAlert(playerMessage, { ...ctx, onScreen: [null, "r2", "r1"] })).toBeNull();
    // Open on a hidden tab is not on screen: the caller passes null for it.
    expect(decideAlert(playerMessage, { ...ctx, onScreen: [null, "r2"] })).not.toBeNull();
  });

  it("a system notification only when no staff tab is on screen", () => {
    expect(decideAlert(playerMessage, ctx)?.notify).toBe(false);
    expect(decideAlert(playerMessage, { ...ctx, anyTabVisible: false })?.notify).toBe(true);
    expect(decideAlert({ kind: "new-request", request: request() }, { ...ctx, anyTabVisible: false })?.notify).toBe(
      true,
    );
  });

  it("names a player without a name by number, and keeps previews to one short line", () => {
    expect(decideAlert({ kind: "new-request", request: request({ playerName: " " }) }, ctx)?.title).toBe(
      "New chat: Player #29",
    );
    expect(preview("  two\n\nlines  ")).toBe("two lines");
    const long = preview("x".repeat(500));
    expect(long).toHaveLength(120);
    expect(long.endsWith("…")).toBe(true);
  });

  it("a notification click opens the chat in the portal", () => {
    expect(requestUrl("1b2c-3d")).toBe("/staff?request=1b2c-3d");
  });
});

describe("one alert per message", () => {
  it("rings for the first copy of a message or a request version only, remembering a bounded number", () => {
    const firstTime = firstSighting(2);
    expect(firstTime(alertKey(playerMessage))).toBe(true);
    expect(firstTime(alertKey({ ...playerMessage, request: request({ version: 9 }) }))).toBe(false); // same message
    expect(firstTime(alertKey({ kind: "new-request", request: request() }))).toBe(true);
    expect(firstTime(alertKey({ kind: "new-request", request: request() }))).toBe(false);
    // Escalated and reopened again are new versions: they may ring again.
    expect(firstTime(alertKey({ kind: "new-request", request: request({ version: 2 }) }))).toBe(true);
    // Two newer keys pushed the message out: what is kept stays bounded.
    expect(firstTime(alertKey(playerMessage))).toBe(true);
  });
});

describe("the tab title", () => {
  const item = (over: Partial<QueueItem>): QueueItem => ({ ...request(), lastMessage: null, unreadCount: 0, ...over });

  it("counts each waiting chat once, plus unread messages in my chats", () => {
    const queue = [
      item({ id: "a", status: "waiting", unreadCount: 3 }),
      item({ id: "b", status: "waiting", unreadCount: 1 }),
      item({ id: "c", status: "in_progress", assignedStaffId: "me", unreadCount: 2 }),
      item({ id: "d", status: "in_progress", assignedStaffId: "other", unreadCount: 5 }),
      item({ id: "e", status: "resolved", unreadCount: 1 }),
    ];
    expect(attentionCount(queue, "me")).toBe(4);
    expect(attentionCount([], "me")).toBe(0);
    expect(attentionCount(undefined, "me")).toBe(0);
  });

  it("shows the count, replaces an old one, and restores the base title at 0", () => {
    const base = "Queue · Floorline staff";
    expect(titleWithCount(base, 3)).toBe("(3) Queue · Floorline staff");
    expect(titleWithCount("(3) Queue · Floorline staff", 5)).toBe("(5) Queue · Floorline staff");
    expect(titleWithCount("(5) Queue · Floorline staff", 0)).toBe(base);
    expect(titleWithCount(base, 150)).toBe("(99+) Queue · Floorline staff");
    expect(stripTitleCount("(99+) Queue · Floorline staff")).toBe(base);
    // A title that merely starts with a parenthesis is left alone.
    expect(stripTitleCount("(beta) Queue")).toBe("(beta) Queue");
  });
});

describe("alert sound settings", () => {
  const memoryStore = () => {
    const data = new Map<string, string>();
    return {
      getItem: (k: string) => data.get(k) ?? null,
      setItem: (k: string, v: string) => void data.set(k, v),
      removeItem: (k: string) => void data.delete(k),
      data,
    };
  };

  it("persists the mute switch", () => {
    const store = memoryStore();
    expect(readMuted(store)).toBe(false);
    writeMuted(true, store);
    expect(store.data.get(MUTE_STORAGE_KEY)).toBe("1");
    expect(readMuted(store)).toBe(true);
    writeMuted(false, store);
    expect(readMuted(store)).toBe(false);
  });

  it("treats blocked storage as not muted instead of throwing", () => {
    const blocked = {
      getItem: () => {
        throw new Error("SecurityError");
      },
      setItem: () => {
        throw new Error("SecurityError");
      },
      removeItem: () => {},
    };
    expect(readMuted(blocked)).toBe(false);
    expect(() => writeMuted(true, blocked)).not.toThrow();
  });

  it("chimes at most once per two seconds", () => {
    expect(chimeDue(Number.NEGATIVE_INFINITY, 0)).toBe(true);
    expect(chimeDue(1000, 2999)).toBe(false);
    expect(chimeDue(1000, 3000)).toBe(true);
  });
});

describe("push availability", () => {
  const env = { secureContext: true, serviceWorker: true, pushManager: true, permission: "default" as const };

  it("explains why push cannot work before loading anything", () => {
    expect(pushSupportProblem(env)).toBeNull();
    expect(pushSupportProblem({ ...env, secureContext: false })).toMatch(/HTTPS/);
    expect(pushSupportProblem({ ...env, pushManager: false })).toMatch(/does not support web push/);
    expect(pushSupportProblem({ ...env, permission: "denied" })).toMatch(/blocked/);
  });

  it("turns SDK failures into readable reasons", () => {
    expect(describePushError("OneSignal script failed to load.")).toMatch(/could not be reached/);
    expect(describePushError(new Error("OneSignal script failed to load."))).toMatch(/could not be reached/);
    expect(describePushError(new Error("This browser does not support Web Push notifications."))).toBe(
      "this browser does not support web push",
    );
    expect(describePushError(undefined)).toBe("OneSignal failed to start");
  });

  it("gives up on a hanging SDK after the time limit", async () => {
    const never = new Promise<never>(() => {});
    const err = await withTimeout(never, 20, "Starting OneSignal").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(describePushError(err)).toBe("Starting OneSignal did not finish within 20 ms (offline or blocked?)");
    await expect(withTimeout(Promise.resolve(7), 1000, "x")).resolves.toBe(7);
  });
});
