import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, type Page, test } from "@playwright/test";
import {
  openAs,
  openChatItem,
  openFromQueue,
  PLAYER_30,
  PLAYER_31,
  STAFF_VIKRAM,
  send,
  thread,
  unique,
} from "./helpers";

/**
 * `npm start` (the Playwright web server) supervises the realtime server: killed with -9, it is
 * back after its first back-off (0.5 s) while the web app keeps answering, and a message sent in the gap is stored and
 * reaches staff once, when their client resyncs after reconnecting.
 */

const realtimePort = Number(process.env.E2E_REALTIME_PORT ?? 6201);
const health = `http://127.0.0.1:${realtimePort}/health`;
const bubble = (page: Page, text: string) => thread(page).getByRole("listitem").filter({ hasText: text });

/** The process listening on the realtime port (the supervisor's child). */
function realtimePid() {
  const out = execFileSync("ss", ["-Hltnp", `sport = :${realtimePort}`], { encoding: "utf8" });
  const pid = /pid=(\d+)/.exec(out)?.[1];
  if (!pid) throw new Error(`nothing listens on ${realtimePort}: ${out}`);
  return Number(pid);
}

/** Its parent: the supervisor (`npm start`'s scripts/run.ts), which restarts it. */
function parentOf(pid: number) {
  const ppid = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (!ppid) throw new Error(`no parent for ${pid}`);
  return Number(ppid);
}

const realtimeUp = async () => {
  try {
    return (await fetch(health)).ok;
  } catch {
    return false;
  }
};

test("a killed realtime server comes back by itself and a message sent meanwhile reaches staff once", async ({
  browser,
  request,
}) => {
  const staff = await openAs(browser, STAFF_VIKRAM.email, /\/staff/);
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  const first = unique("before the restart");
  await send(player.page, first);
  await expect(openChatItem(staff.page, PLAYER_31.name).first()).toContainText(first);
  await openFromQueue(staff.page, PLAYER_31.name);
  await expect(bubble(staff.page, first)).toBeVisible();

  const during = unique("sent while realtime was down");
  const pid = realtimePid();
  // The gap lasts until the send below has been acknowledged, however long a loaded machine takes
  // (the 0.5 s back-off alone was once over before the send was): the supervisor is paused
  // (SIGSTOP) while the server dies, and on SIGCONT it sees the exit and restarts it by itself.
  const supervisor = parentOf(pid);
  process.kill(supervisor, "SIGSTOP");
  let resumedAt = 0;
  try {
    process.kill(pid, "SIGKILL");
    await expect.poll(realtimeUp).toBe(false);

    // The gap: the web app answers and stores what the player sends.
    expect((await request.get("/sign-in")).ok()).toBe(true);
    await send(player.page, during);
    await expect(bubble(player.page, during)).toContainText(/Sent|Delivered|Read/);
    expect(await realtimeUp()).toBe(false);
  } finally {
    process.kill(supervisor, "SIGCONT");
    resumedAt = Date.now();
  }

  // How fast it returns is measured (reported as an annotation), not a pass/fail threshold.
  await expect.poll(realtimeUp, { timeout: 20_000, intervals: [50] }).toBe(true);
  test.info().annotations.push({ type: "realtime back after", description: `${Date.now() - resumedAt} ms` });
  expect(realtimePid()).not.toBe(pid);

  // Staff catch up once their client reconnects; the message shows once.
  await expect(bubble(staff.page, during)).toHaveCount(1, { timeout: 20_000 });
  // A message after the restart arrives live behind it; the gap message is still there once.
  const after = unique("after the restart");
  await send(player.page, after);
  await expect(bubble(staff.page, after)).toHaveCount(1);
  await expect(bubble(staff.page, during)).toHaveCount(1);

  await player.context.close();
  await staff.context.close();
});

/** tRPC procedures a page calls, counted by name (a batched request counts each of its calls). */
function countCalls(page: Page) {
  const calls = new Map<string, number>();
  page.on("request", (req) => {
    const { pathname } = new URL(req.url());
    if (!pathname.startsWith("/api/trpc/")) return;
    for (const name of decodeURIComponent(pathname.slice("/api/trpc/".length)).split(",")) {
      calls.set(name, (calls.get(name) ?? 0) + 1);
    }
  });
  return calls;
}

const banner = (page: Page) => page.getByRole("status").filter({ hasText: /Reconnecting…|Live updates paused/ });

test("opening a chat keeps the staff page's connection: no new socket, no second catch-up", async ({ browser }) => {
  const staff = await openAs(browser, STAFF_VIKRAM.email, /\/staff/);
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  const first = unique("before opening");
  await send(player.page, first);
  // Arrived live in the queue: the staff page's socket is connected and subscribed.
  await expect(openChatItem(staff.page, PLAYER_30.name).first()).toContainText(first);
  const sockets: string[] = [];
  staff.page.on("websocket", (socket) => sockets.push(socket.url()));
  const staffCalls = countCalls(staff.page);

  await openFromQueue(staff.page, PLAYER_30.name);
  await expect(bubble(staff.page, first)).toBeVisible();
  // A message after opening arrives live in the open chat: whatever opening set off has happened.
  const after = unique("after opening");
  await send(player.page, after);
  await expect(bubble(staff.page, after)).toHaveCount(1);

  // Opening a chat renders the page again (`?request=…`); the connection must outlive that.
  expect(sockets).toEqual([]);
  expect(staffCalls.get("staff.queue") ?? 0).toBe(0);

  await player.context.close();
  await staff.context.close();
});

test("after a realtime restart each page catches up once: one queue load and one thread fetch per screen", async ({
  browser,
}) => {
  const staff = await openAs(browser, STAFF_VIKRAM.email, /\/staff/);
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  const first = unique("before the restart");
  await send(player.page, first);
  await openFromQueue(staff.page, PLAYER_30.name);
  await expect(bubble(staff.page, first)).toBeVisible();
  const staffCalls = countCalls(staff.page);
  const playerCalls = countCalls(player.page);

  process.kill(realtimePid(), "SIGKILL");
  await expect.poll(realtimeUp, { timeout: 20_000, intervals: [50] }).toBe(false);
  await expect.poll(realtimeUp, { timeout: 20_000, intervals: [50] }).toBe(true);
  // Both pages reconnected and every channel they hold is subscribed again.
  for (const page of [player.page, staff.page]) await expect(banner(page)).toHaveCount(0, { timeout: 30_000 });
  // A message after that arrives live: whatever the resubscriptions set off has been asked for by now.
  const after = unique("after the restart");
  await send(player.page, after);
  await expect(bubble(staff.page, after)).toHaveCount(1);

  expect(Object.fromEntries(staffCalls)).toMatchObject({ "staff.queue": 1, "staff.threadSince": 1 });
  expect(Object.fromEntries(playerCalls)).toMatchObject({ "chat.since": 1 });

  await player.context.close();
  await staff.context.close();
});

test("a realtime restart while the page's channel authorizations are on their way leaves it live", async ({
  browser,
}) => {
  const staff = await openAs(browser, STAFF_VIKRAM.email, /\/staff/);
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  // A slow link: the staff page's channel authorizations are answered only once its connection
  // has dropped and come back, so pusher-js sends the first round's signatures (made for the old
  // socket) on the new connection, and the realtime server refuses them with a 401.
  let answer!: () => void;
  const held = new Promise<void>((resolve) => {
    answer = resolve;
  });
  let asked = 0;
  await staff.page.route("**/api/realtime/auth", async (route) => {
    asked++;
    await held;
    await route.continue();
  });
  await staff.page.reload();
  await expect.poll(() => asked).toBeGreaterThan(0);
  const firstRound = asked;
  process.kill(realtimePid(), "SIGKILL");
  await expect.poll(realtimeUp, { timeout: 20_000, intervals: [50] }).toBe(false);
  await expect.poll(realtimeUp, { timeout: 20_000, intervals: [50] }).toBe(true);
  // Reconnected: the second round of authorizations has been asked for.
  await expect.poll(() => asked, { timeout: 30_000 }).toBeGreaterThan(firstRound);
  answer();

  const after = unique("after the restart, authorizations answered late");
  await send(player.page, after);
  await expect(openChatItem(staff.page, PLAYER_31.name).first()).toContainText(after, { timeout: 15_000 });

  await player.context.close();
  await staff.context.close();
});
