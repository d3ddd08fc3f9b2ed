import { env } from "@/env";
import { escalate } from "./chat/actions";
import { getDb } from "./db";
import { httpDeps } from "./http/deps";
import { getChatNotifications } from "./services";
import { LOCKS, runExclusive } from "./shared-state";

/** Opens and migrates the database before the first request; cannot → one clear line, exit 1. */
export async function prepareAtStartup() {
  try {
    const { db } = await getDb();
    // Push settings are checked now (a typo stops start-up) and "push is off" is said once.
    getChatNotifications(db);
  } catch (err) {
    console.error(`[floorline] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  startEscalationLoop();
}

/**
 * Requests left waiting past ESCALATE_AFTER_SECONDS alert staff again, once each. Every web
 * instance ticks; the one that holds the advisory lock runs the pass, the others skip it.
 */
function startEscalationLoop() {
  const waitedMs = env.ESCALATE_AFTER_SECONDS * 1000;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const deps = await httpDeps();
      await runExclusive(await getDb(), LOCKS.escalation, async () => void (await escalate(deps, { waitedMs })));
    } catch (err) {
      console.error(`[escalation] ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      busy = false;
    }
  }, env.ESCALATION_CHECK_SECONDS * 1000);
  timer.unref();
}
