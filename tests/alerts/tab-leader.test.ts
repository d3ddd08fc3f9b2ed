import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { type ChannelLike, newTabId, TabLeaderElection } from "@/app/(staff)/staff/alerts/tab-leader";

/**
 * Several "tabs" in one process over Node's real BroadcastChannel. Time is the heartbeat: the
 * test calls `tick()` where a browser's timer would, and waits for messages by condition.
 */
type Info = { viewing: string | null };
type Tab = { election: TabLeaderElection<Info>; channel: BroadcastChannel };

let name = "";
let open: Tab[] = [];

afterEach(() => {
  for (const tab of open) {
    tab.election.stop();
    tab.channel.close();
  }
  open = [];
});

function openTab(id: string, rank = 0) {
  name ||= `floorline-test-${randomUUID()}`;
  const channel = new BroadcastChannel(name);
  const election = new TabLeaderElection<Info>({
    id,
    channel: channel as unknown as ChannelLike,
    rank,
    info: { viewing: null },
  }).start();
  const tab = { election, channel };
  open.push(tab);
  return tab;
}

/** A tab that dies without a goodbye (crash, killed process): it just goes silent. */
function crash(tab: Tab) {
  tab.channel.close();
  open = open.filter((t) => t !== tab);
}

/**
 * Resolves as soon as `condition` holds, re-checking after every state change of any tab. The
 * limit only turns a condition that never holds into a named failure: generous for a loaded
 * machine (3 s was not), inside the 20 s test timeout, and never waited out by a passing run.
 */
function until(condition: () => boolean, what: string, timeoutMs = 15_000) {
  return new Promise<void>((resolve, reject) => {
    const unsubscribes = open.map((t) => t.election.subscribe(check));
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting until ${what}`));
    }, timeoutMs);
    function done() {
      clearTimeout(timer);
      for (const u of unsubscribes) u();
    }
    function check() {
      if (!condition()) return;
      done();
      resolve();
    }
    check();
  });
}

const leaders = (tabs: Tab[]) => tabs.filter((t) => t.election.isLeader()).map((t) => t.election.id);
/** Every tab has heard every other tab (since its latest ping, with `fresh`). */
const knowsAll =
  (tabs: Tab[], fresh = false) =>
  () =>
    tabs.every((t) =>
      tabs.every(
        (other) => other === t || t.election.peers().some((p) => p.id === other.election.id && (!fresh || p.fresh)),
      ),
    );
/** One heartbeat on every tab, then wait until every tab has the others' answers to it. */
async function heartbeat(tabs: Tab[]) {
  for (const t of tabs) t.election.tick();
  await until(knowsAll(tabs, true), "every tab answered every ping");
}

describe("tab leader election", () => {
  afterEach(() => {
    name = "";
  });

  it("elects exactly one leader, the oldest tab", async () => {
    const tabs = [openTab("b"), openTab("a"), openTab("c")];
    await until(knowsAll(tabs), "the tabs have met");
    // Before its first heartbeat no tab leads: it may not have heard the incumbent yet.
    expect(leaders(tabs)).toEqual([]);
    await heartbeat(tabs);
    expect(leaders(tabs)).toEqual(["a"]);
    await heartbeat(tabs);
    expect(leaders(tabs)).toEqual(["a"]);
  });

  it("a lone tab leads after its first heartbeat", () => {
    const { election } = openTab("solo");
    expect(election.isLeader()).toBe(false);
    election.tick();
    expect(election.isLeader()).toBe(true);
  });

  it("a newly opened tab does not take over", async () => {
    const first = [openTab("a"), openTab("b")];
    await until(knowsAll(first), "the first tabs have met");
    await heartbeat(first);
    const late = openTab("z");
    const all = [...first, late];
    await until(knowsAll(all), "the new tab is known");
    await heartbeat(all);
    expect(leaders(all)).toEqual(["a"]);
  });

  it("re-elects at once when the leader closes (pagehide goodbye)", async () => {
    const tabs = [openTab("a"), openTab("b"), openTab("c")];
    const [a, b, c] = tabs as [Tab, Tab, Tab];
    await until(knowsAll(tabs), "the tabs have met");
    await heartbeat(tabs);
    expect(leaders(tabs)).toEqual(["a"]);

    a.election.stop();
    // No heartbeat needed: the goodbye alone hands over.
    await until(() => b.election.isLeader(), "b leads");
    expect(leaders([b, c])).toEqual(["b"]);
    expect(a.election.isLeader()).toBe(false);
  });

  it("re-elects within two heartbeats when the leader dies silently", async () => {
    const tabs = [openTab("a"), openTab("b"), openTab("c")];
    const [a, b, c] = tabs as [Tab, Tab, Tab];
    await until(knowsAll(tabs), "the tabs have met");
    await heartbeat(tabs);
    crash(a);

    const rest = [b, c];
    // First heartbeat after the crash: a answered the previous ping, so it still counts and
    // nobody leads (at most one heartbeat without alerts, never two leaders).
    await heartbeat(rest);
    expect(
      rest.map((t) =>
        t.election
          .peers()
          .map((p) => p.id)
          .sort(),
      ),
    ).toEqual([
      ["a", "c"],
      ["a", "b"],
    ]);
    expect(leaders(rest)).toEqual([]);
    // Second: a missed the last ping and is forgotten.
    await heartbeat(rest);
    expect(rest.map((t) => t.election.peers().map((p) => p.id))).toEqual([["c"], ["b"]]);
    expect(leaders(rest)).toEqual(["b"]);
  });

  it("prefers a tab that can play sound, then the oldest", async () => {
    const tabs = [openTab("a", 1), openTab("b", 1), openTab("c", 1)];
    const [a, , c] = tabs as [Tab, Tab, Tab];
    await until(knowsAll(tabs), "the tabs have met");
    await heartbeat(tabs);
    expect(leaders(tabs)).toEqual(["a"]);

    c.election.update({ rank: 0 }); // the person clicked in tab c
    await until(() => !a.election.isLeader(), "a steps down");
    expect(leaders(tabs)).toEqual(["c"]);

    a.election.update({ rank: 0 });
    await until(() => !c.election.isLeader(), "c steps down");
    expect(leaders(tabs)).toEqual(["a"]);
  });

  it("shares what each tab shows", async () => {
    const tabs = [openTab("a"), openTab("b")];
    const [a, b] = tabs as [Tab, Tab];
    b.election.update({ info: { viewing: "request-1" } });
    await until(() => a.election.peers()[0]?.info.viewing === "request-1", "a sees what b shows");
    expect(a.election.peers()).toEqual([{ id: "b", rank: 0, info: { viewing: "request-1" }, fresh: true }]);
  });

  it("ignores messages that are not from this protocol", async () => {
    const tabs = [openTab("b")];
    const [b] = tabs as [Tab];
    b.election.tick();
    const stranger = new BroadcastChannel(name);
    stranger.postMessage({ type: "hello", id: "a" }); // an older build's message: no rank, no info
    stranger.postMessage("nonsense");
    stranger.postMessage({ type: "here", id: "0", rank: 0, info: { viewing: null } });
    await until(() => b.election.peers().length === 1, "the valid message arrived");
    stranger.close();
    expect(b.election.peers().map((p) => p.id)).toEqual(["0"]);
    expect(b.election.isLeader()).toBe(false);
  });
});

describe("tab ids", () => {
  it("sort by age", () => {
    const older = newTabId(Date.parse("2026-01-01T00:00:00Z"));
    const newer = newTabId(Date.parse("2026-01-01T00:00:01Z"));
    expect(older < newer).toBe(true);
    expect(newTabId(1) < newTabId(Date.now())).toBe(true);
  });
});
