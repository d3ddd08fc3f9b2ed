import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { buildRealtime } from "../../scripts/build-realtime";
import { expectStillServing, type RealtimeProcess, spawnRealtime } from "./process";

// `npm start` runs the bundle `npm run build` makes, not the sources: it must be the same server.
describe("the realtime server's bundle", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "floorline-realtime-bundle-"));
  let rt: RealtimeProcess;
  beforeAll(async () => {
    const bundle = path.join(dir, "server.mjs");
    await buildRealtime(bundle);
    rt = await spawnRealtime({}, [process.execPath, bundle]);
  }, 60_000);
  afterAll(async () => {
    await rt?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("starts on its own and serves an official client a private channel", async () => {
    await expectStillServing(rt);
  });
});
