import { type Browser, expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { type Stack, startStack } from "../tests/support/stack";
import {
  composer,
  openAs,
  openChatItem,
  PLAYER_29,
  PLAYER_30,
  PLAYER_31,
  STAFF_ASHA,
  send,
  thread,
  trpcCall,
  unique,
} from "./helpers";

/**
 * Faults with real processes: a stack of our own (private Postgres, realtime server, the web server as `npm start` runs it)
 * whose parts these tests kill and restart, beside the suite's usual server. Each test ends
 * with the same check: every acknowledged message stored once and shown once, in order, on both
 * portals, and the staff queue and the player's queue status agree with the database.
 */
const BASE_PORT = Number(process.env.E2E_FAULT_PORT_BASE ?? 6231);

test.describe.configure({ mode: "serial" });

let stack: Stack;
let db: pg.Pool;
test.beforeAll(async () => {
  test.setTimeout(180_000);
  stack = await startStack(BASE_PORT);
  db = new pg.Pool({ connectionString: stack.postgres.url, max: 2 });
  db.on("error", () => {}); // the Postgres test stops the server under this pool too
});
test.afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

const banner = (page: Page) => page.getByRole("status").filter({ hasText: /Reconnecting…|Live updates paused/ });

async function open(browser: Browser, who: { email: string }, landing: RegExp) {
  return openAs(browser, who.email, landing, { baseURL: stack.url });
}

/** Opens the player's chat in the staff portal and takes it if it is waiting. */
async function takeChat(staff: Page, playerName: string) {
  await openChatItem(staff, playerName).first().click();
  const card = staff.getByRole("region", { name: "Player" });
  await expect(card).toContainText(playerName);
  const take = staff.getByRole("button", { name: "Take" });
  if (await take.isVisible()) await take.click();
  await expect(card).toContainText("With you");
}

/**
 * Asha and a player in a chat she holds, both portals open; returns the texts exchanged so far
 * and a `write(page, text, how)` that records each text the test sends.
 */
async function chatInProgress(browser: Browser, who: { email: string; name: string }, opening: string) {
  const staff = await open(browser, STAFF_ASHA, /\/staff/);
  const player = await open(browser, who, /\/player/);
  const texts = [opening];
  await send(player.page, opening);
  await takeChat(staff.page, who.name);
  const write = async (page: Page, text: string, how: "wait" | "now" = "wait") => {
    texts.push(text);
    await (how === "now" ? sendNow(page, text) : send(page, text));
  };
  const close = async () => {
    await player.context.close();
    await staff.context.close();
  };
  return { staff: staff.page, player: player.page, texts, write, close };
}

/**
 * Counts, per page, the API calls that failed (answered 5xx, or not at all) from now on. An outage
 * lasts until every page has met it more than once (it is in its retry back-off, not its first
 * try), however long a loaded machine takes to get there, rather than for a fixed time.
 */
function failedCalls(pages: Page[]) {
  const failed = new Map(pages.map((page) => [page, 0]));
  const api = (url: string) => new URL(url).pathname.startsWith("/api/");
  for (const page of pages) {
    const count = () => failed.set(page, (failed.get(page) ?? 0) + 1);
    page.on("response", (res) => {
      if (api(res.url()) && res.status() >= 500) count();
    });
    page.on("requestfailed", (req) => {
      if (api(req.url())) count();
    });
  }
  return () => Math.min(...failed.values());
}

/** Types and sends without waiting for the answer (Enter, as a hurried user does). */
async function sendNow(page: Page, text: string) {
  await composer(page).fill(text);
  await composer(page).press("Enter");
}

/** Stored message texts on a page, in the order shown (pending outbox entries have no seq). */
const shownTexts = (page: Page) => thread(page).locator("li[data-seq] p.text").allInnerTexts();

async function expectConsistent(opts: { player: Page; staff: Page; playerId: number; texts: string[] }) {
  const { player, staff, playerId, texts } = opts;
  // Every message was acknowledged: nothing is left in either outbox.
  for (const page of [player, staff]) {
    await expect(thread(page).locator("li.pending")).toHaveCount(0, { timeout: 45_000 });
  }
  const rows = (
    await db.query<{ seq: string; message_text: string }>(
      "select seq, message_text from chat_messages where player_id = $1 order by seq",
      [playerId],
    )
  ).rows;
  // Stored once each, and the thread's seqs have no hole.
  for (const text of texts)
    expect(
      rows.filter((r) => r.message_text === text),
      text,
    ).toHaveLength(1);
  expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
  const expected = rows.map((r) => r.message_text).filter((t) => texts.includes(t));
  // Shown once each, in seq order, on both portals.
  for (const page of [player, staff]) {
    await expect
      .poll(async () => (await shownTexts(page)).filter((t) => texts.includes(t)), { timeout: 30_000 })
      .toEqual(expected);
  }

  const counts = (
    await db.query<{ status: string; n: number }>(
      "select status::text, count(*)::int as n from chat_requests where status <> 'resolved' group by status",
    )
  ).rows;
  const count = (status: string) => counts.find((c) => c.status === status)?.n ?? 0;
  const section = (name: RegExp) => staff.getByRole("region", { name }).locator("h2 .count");
  await expect(section(/^Waiting/)).toHaveText(String(count("waiting")), { timeout: 30_000 });
  await expect(section(/^In progress/)).toHaveText(String(count("in_progress")), { timeout: 30_000 });
  const [open] = (
    await db.query<{ status: string; position: number; holder: string | null }>(
      `select r.status::text, s.display_name as holder, (select count(*)::int from chat_requests w
         where w.status = 'waiting' and w.created_at <= r.created_at) as position
       from chat_requests r left join staff s on s.user_id = r.assigned_staff_id
       where r.player_id = $1 and r.status <> 'resolved'`,
      [playerId],
    )
  ).rows;
  // The queue status line (the slow-down notice below the thread shares its style).
  const statusLine = player.locator(".status-line").first();
  if (open?.status === "in_progress") await expect(statusLine).toHaveText(`${open.holder} is with you.`);
  else if (open?.status === "waiting") await expect(statusLine).toContainText(`you are number ${open.position} in`);
  else await expect(statusLine).not.toContainText(/is with you|in the queue/);
  // And live again: no banner on either page.
  for (const page of [player, staff]) await expect(banner(page)).toHaveCount(0, { timeout: 30_000 });
}

test("the realtime server is killed (SIGKILL) and restarted mid-conversation", async ({ browser }) => {
  const chat = await chatInProgress(browser, PLAYER_29, unique("before the crash"));
  const reply = unique("answer before the crash");
  await chat.write(chat.staff, reply);
  await expect(thread(chat.player)).toContainText(reply);

  await stack.realtime.kill("SIGKILL");
  await expect(banner(chat.player)).toBeVisible({ timeout: 20_000 });
  await expect(banner(chat.staff)).toBeVisible({ timeout: 20_000 });
  // Sends still work while live updates are down: they are stored, and shown when it is back.
  await chat.write(chat.player, unique("while realtime is down 1"));
  await chat.write(chat.player, unique("while realtime is down 2"));
  await chat.write(chat.staff, unique("staff while realtime is down"));
  await expect(thread(chat.player).locator("li.pending")).toHaveCount(0);

  await stack.realtime.start();
  await expectConsistent({ ...chat, playerId: PLAYER_29.id });
  await chat.close();
});

test("a realtime server down for longer than one retry: pages reconnect within seconds of its return", async ({
  browser,
}) => {
  const chat = await chatInProgress(browser, PLAYER_29, unique("before the long outage"));
  // Connection attempts each page makes once the server is gone (each opens a WebSocket).
  const attempts = new Map<Page, number>();
  let down = false;
  for (const page of [chat.player, chat.staff]) {
    attempts.set(page, 0);
    page.on("websocket", () => {
      if (down) attempts.set(page, (attempts.get(page) ?? 0) + 1);
    });
  }
  await stack.realtime.kill("SIGKILL");
  down = true;
  // Each page has tried and failed more than once: it is in its retry back-off, not its first
  // reconnect (pusher-js alone waits out a 15 s timer after a refused attempt, then 30 s, 60 s).
  await expect
    .poll(() => Math.min(...attempts.values()), { timeout: 60_000, intervals: [100] })
    .toBeGreaterThanOrEqual(2);
  await stack.realtime.start();
  // Back within seconds (the default 10 s wait), not at pusher-js's next 30 s attempt.
  for (const page of [chat.player, chat.staff]) await expect(banner(page)).toHaveCount(0);
  const after = unique("after the long outage");
  await chat.write(chat.player, after);
  await expect(thread(chat.staff)).toContainText(after);
  await expectConsistent({ ...chat, playerId: PLAYER_29.id });
  await chat.close();
});

test("the web server is killed and restarted while sends are in flight", async ({ browser }) => {
  const chat = await chatInProgress(browser, PLAYER_30, unique("hello before the web crash"));
  // Each page's first send reaches the server (and is stored), but its answer is lost: the
  // server dies before the browser hears back. The outboxes must resend with the same ids.
  let serverDied!: () => void;
  const died = new Promise<void>((r) => {
    serverDied = r;
  });
  const reached: Promise<void>[] = [];
  for (const [page, procedure] of [
    [chat.player, "chat.send"],
    [chat.staff, "staff.reply"],
  ] as const) {
    let arrived!: () => void;
    reached.push(new Promise<void>((r) => (arrived = r)));
    await page.route(trpcCall(procedure), async (route) => {
      await route.fetch().catch(() => {});
      arrived();
      await died;
      await route.abort("connectionreset");
    });
  }
  for (let i = 1; i <= 5; i++) await chat.write(chat.player, unique(`in flight ${i}`), "now");
  await chat.write(chat.staff, unique("reply in flight"), "now");
  await Promise.all(reached);
  await stack.web.kill("SIGKILL");
  serverDied();
  await expect(thread(chat.player).locator("li.pending").first()).toBeVisible();
  await expect(thread(chat.staff).locator("li.pending").first()).toBeVisible();
  for (const page of [chat.player, chat.staff]) await page.unrouteAll({ behavior: "ignoreErrors" });

  await stack.web.start();
  await expectConsistent({ ...chat, playerId: PLAYER_30.id });
  await chat.close();
});

test("Postgres is stopped with both portals open until each has failed more than once", async ({ browser }) => {
  const chat = await chatInProgress(browser, PLAYER_31, unique("before the database stops"));
  const fewestFailed = failedCalls([chat.player, chat.staff]);
  stack.postgres.stop();
  await chat.write(chat.player, unique("while the database is down 1"));
  await chat.write(chat.player, unique("while the database is down 2"));
  await chat.write(chat.staff, unique("staff while the database is down"));
  await expect(thread(chat.player).locator("li.pending").first()).toContainText("Sending…");
  await expect(thread(chat.staff).locator("li.pending").first()).toBeVisible();
  await expect.poll(fewestFailed, { timeout: 60_000, intervals: [100] }).toBeGreaterThanOrEqual(2);
  stack.postgres.start();

  await expectConsistent({ ...chat, playerId: PLAYER_31.id });
  await chat.close();
});

test("portals opened while Postgres is down hear and send once it is back", async ({ browser }) => {
  // Asha already holds player 29's chat (the first test): she can answer it.
  const staff = await open(browser, STAFF_ASHA, /\/staff/);
  const player = await open(browser, PLAYER_29, /\/player/);
  // A second tab of Asha's is loading when the database stops: its page is rendered while the
  // database is up, but every call it then makes (first loads, subscriptions) meets the outage.
  const loading = await staff.context.newPage();
  loading.on("pageerror", (err) => {
    throw err;
  });
  let release!: () => void;
  const databaseDown = new Promise<void>((r) => {
    release = r;
  });
  await loading.route("**/api/**", async (route) => {
    await databaseDown;
    await route.continue();
  });
  await loading.goto("/staff");
  // Signed in while the database is up; the other two portals are opened during the outage:
  // their pages are rendered on a server that can neither check the session nor load anything.
  for (const page of [staff.page, player.page]) await page.goto("about:blank");
  // The pages opened during the outage show their banner and wait; the tab that was loading keeps
  // retrying its calls, so the outage lasts until it has failed more than once.
  const loadingFailed = failedCalls([loading]);
  stack.postgres.stop();
  release();
  await staff.page.goto("/staff");
  await player.page.goto("/player");
  const pages = [staff.page, player.page, loading];
  for (const page of pages) await expect(banner(page)).toBeVisible({ timeout: 20_000 });
  // A mark on each document: still there at the end means the pages healed without a reload.
  for (const page of pages) await page.evaluate(() => Object.assign(window, { sameDocument: true }));
  await expect.poll(loadingFailed, { timeout: 60_000, intervals: [100] }).toBeGreaterThanOrEqual(2);
  stack.postgres.start();
  await loading.unroute("**/api/**");

  // No reload: every portal heals by itself, then hears what comes next.
  for (const page of pages) await expect(banner(page)).toHaveCount(0, { timeout: 40_000 });
  const text = unique("after the outage");
  await send(player.page, text);
  for (const page of [staff.page, loading])
    await expect(openChatItem(page, PLAYER_29.name).first()).toContainText(text, { timeout: 15_000 });
  await takeChat(staff.page, PLAYER_29.name);
  const reply = unique("heard you after the outage");
  await send(staff.page, reply);
  await expect(thread(player.page)).toContainText(reply);
  await expectConsistent({ player: player.page, staff: staff.page, playerId: PLAYER_29.id, texts: [text, reply] });
  // The tab that was loading shows the same conversation and queues.
  await openChatItem(loading, PLAYER_29.name).first().click();
  await expectConsistent({ player: player.page, staff: loading, playerId: PLAYER_29.id, texts: [text, reply] });
  for (const page of pages)
    expect(await page.evaluate(() => "sameDocument" in window), "healed without a reload").toBe(true);
  await player.context.close();
  await staff.context.close();
});
