import { describe, expect, it } from "vitest";
import { deliveries } from "@/bench/path";

const stored = async () => ({ status: 200, body: "{}", headers: {} });

describe("the bench's delivery accounting", () => {
  it("counts a message delivered once every socket has it, not once it arrived as many times", async () => {
    // A send the bench made twice (connection reset) is published twice: each socket may get two copies.
    const toStaff = deliveries(2);
    const done: number[] = [];
    await toStaff.send("m1", stored, (ms) => done.push(ms));
    toStaff.arrived("m1", 0);
    toStaff.arrived("m1", 0);
    await toStaff.drained(0);
    expect(done).toEqual([]);
    expect(toStaff.lostIds()).toEqual(["m1"]);

    toStaff.arrived("m1", 1);
    expect(done).toHaveLength(1);
    expect(toStaff.lostIds()).toEqual([]);
  });
});
