import { describe, expect, it } from "vitest";
import { bannerMessage, type ChannelState } from "@/app/_realtime/provider";

const channels = (...states: ChannelState[]) => new Map(states.map((s, i) => [`ch${i}`, s]));

describe("the live-updates banner", () => {
  it("is empty only while connected with every channel live", () => {
    expect(bannerMessage("connected", channels("live", "live"), false)).toBe("");
    expect(bannerMessage("connected", channels(), false)).toBe("");
  });

  it("says reconnecting while the connection is down, or a channel is still subscribing after start-up", () => {
    expect(bannerMessage("unavailable", channels("live"), false)).toBe("Reconnecting…");
    expect(bannerMessage("connecting", channels("pending"), false)).toBe("Reconnecting…");
    expect(bannerMessage("connected", channels("live", "pending"), false)).toBe("Reconnecting…");
  });

  it("says live updates are paused while a channel's subscription failed and is being retried", () => {
    expect(bannerMessage("connected", channels("live", "retrying"), false)).toBe("Live updates paused — retrying");
    // Even during the start-up grace: a failure is not slowness.
    expect(bannerMessage("connected", channels("retrying"), true)).toBe("Live updates paused — retrying");
  });

  it("says live updates are paused while data the page needs fails to load (it is retried)", () => {
    expect(bannerMessage("connected", channels(), false, true)).toBe("Live updates paused — retrying");
    expect(bannerMessage("connected", channels("live"), true, true)).toBe("Live updates paused — retrying");
    expect(bannerMessage("unavailable", channels(), false, true)).toBe("Reconnecting…");
  });

  it("stays quiet while the first connection and subscriptions are under way", () => {
    expect(bannerMessage("connecting", channels("pending"), true)).toBe("");
    expect(bannerMessage("connected", channels("pending"), true)).toBe("");
  });

  it("says when this browser cannot do live updates at all", () => {
    expect(bannerMessage("failed", channels(), false)).toMatch(/unavailable in this browser/);
  });
});
