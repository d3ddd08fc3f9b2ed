import { afterEach, describe, expect, it } from "vitest";
import { type ChannelLike, TabLeaderElection } from "@/app/_alerts/tab-leader";

/** Several "tabs" in one process, talking over Node's real BroadcastChannel. */
const tabs: TabLeaderElection[] = [];
afterEach(() => {
  for (const t of tabs.splice(0)) t.stop();
});

function openTab(id: string) {
  const changes: boolean[] = [];
  const tab = new TabLeaderElection({
    id,
    channel: new BroadcastChannel("floorline-test-tabs") as unknown as ChannelLike,
    heartbeatMs: 50,
    onChange: (leader) => changes.push(leader),
  }).start();
  tabs.push(tab);
  return tab;
}

async function until(condition: () => boolean) {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe("tab leader election", () => {
  it("settles on exactly one leader among several tabs", async () => {
    const all = [openTab("b"), openTab("a"), openTab("c")];
    await until(() => all.filter((t) => t.isLeader()).length === 1 && all[1]?.isLeader() === true);
    expect(all.map((t) => t.isLeader())).toEqual([false, true, false]);
  });

  it("hands over when the leader tab closes", async () => {
    const [first, second, third] = [openTab("a"), openTab("b"), openTab("c")];
    await until(() => first.isLeader() && !second.isLeader() && !third.isLeader());
    tabs.splice(tabs.indexOf(first), 1);
    first.stop();
    await until(() => second.isLeader());
    expect(third.isLeader()).toBe(false);
  });

  it("leads alone", () => {
    expect(openTab("solo").isLeader()).toBe(true);
  });
});
