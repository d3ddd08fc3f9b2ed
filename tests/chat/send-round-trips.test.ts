import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { sendPlayerMessage } from "@/server/chat/send";
import { openTestDb } from "../support/db";
import { makePlayer } from "../support/fixtures";
import { statementsOf } from "../support/statements";

/**
 * Issue 11: each statement of a send is a round trip to Postgres and CPU in the web process. What
 * a send costs is counted at the driver (node-postgres), so this runs on Postgres only; the
 * same code runs on PGlite in every other send test.
 */
const onPostgres = !!process.env.TEST_DATABASE_URL;

describe.runIf(onPostgres)("a player's send in few round trips (Postgres: counted at the driver)", () => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb("postgres");
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("reads the send limit with the player lock and writes it with the seq bump: 8 statements for a message in an open chat", async () => {
    const { player } = await makePlayer(handle.db);
    const actor = { id: player.id, userId: player.userId, displayName: player.displayName };
    const sendLimit = { burst: 10, perSecond: 1 };
    await sendPlayerMessage(handle.db, { id: randomUUID(), text: "first", player: actor, sendLimit });

    const id = randomUUID();
    const statements = await statementsOf(() =>
      sendPlayerMessage(handle.db, { id, text: "second", player: actor, sendLimit }),
    );
    // begin; lock player (+ allowance, clock); is the id stored?; lock the open request;
    // bump seq (+ the allowance); insert the message; touch the request; commit.
    expect(statements).toHaveLength(8);

    // A retry of the stored id: found after the lock; nothing is written, no allowance taken.
    const retry = await statementsOf(() =>
      sendPlayerMessage(handle.db, { id, text: "second", player: actor, sendLimit }),
    );
    expect(retry).toHaveLength(5);
  });
});
