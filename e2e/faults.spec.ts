import { type Browser, expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { type Stack, startStack } from "../tests/support/stack";
import {
  composer,
  openAs,
  PLAYER_29,
  PLAYER_30,
  PLAYER_31,
  queueItem,
  STAFF_ASHA,
  STAFF_VIKRAM,
  send,
  thread,
  unique,
} from "./helpers";

/**
 * Faults with real processes: a stack of our own (private Postgres, realtime server, `next start`)
 * whose parts these tests kill and restart, beside the suite's usual server. Each test ends
 * with the same check: every acknowledged message stored once and shown once, in order, on both
 * portals, and the staff queue and the player's queue status agree with the database.
 */
const BASE_PORT = Number(process.env.E2E_FAULT_PORT_BASE ?? 6231);

test.describe.configure({ mode: "serial", timeout: 180_000 });

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
  await queueItem(staff, playerName).first().click();
  const card = staff.getByRole("region", { name: "Player" });
  await expect(card).toContainText(playerName);
  const take = staff.getByRole("button", { name: "Take" });
  if (await take.isVisible()) await take.click();
  await expect(card).toContainText("With you");
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
    await db.query<{ status: string; position: number }>(
      `select r.status::text, (select count(*)::int from chat_requests w
         where w.status = 'waiting' and w.created_at <= r.created_at) as position
       from chat_requests r where r.player_id = $1 and r.status <> 'resolved'`,
      [playerId],
    )
  ).rows;
  const statusLine = player.locator(".status-line");
  if (open?.status === "in_progress") await expect(statusLine).toHaveText("A staff member is with you.");
  else if (open?.status === "waiting") await expect(statusLine).toContainText(`you are number ${open.position} in`);
  else await expect(statusLine).toHaveText("");
  // And live again: no banner on either page.
  for (const page of [player, staff]) await expect(banner(page)).toHaveCount(0, { timeout: 30_000 });
}

test("the realtime server is killed (SIGKILL) and restarted mid-conversation", async ({ browser }) => {
  const staff = await open(browser, STAFF_ASHA, /\/staff/);
  const player = await open(browser, PLAYER_29, /\/player/);
  const texts = [unique("before the crash")];
  await send(player.page, texts[0] as string);
  await takeChat(staff.page, PLAYER_29.name);
  const reply = unique("answer before the crash");
  texts.push(reply);
  await send(staff.page, reply);
  await expect(thread(player.page)).toContainText(reply);

  await stack.realtime.kill("SIGKILL");
  await expect(banner(player.page)).toBeVisible({ timeout: 20_000 });
  await expect(banner(staff.page)).toBeVisible({ timeout: 20_000 });
  // Sends still work while live updates are down: they are stored, and shown when it is back.
  for (const text of [unique("while realtime is down 1"), unique("while realtime is down 2")]) {
    texts.push(text);
    await send(player.page, text);
  }
  const during = unique("staff while realtime is down");
  texts.push(during);
  await send(staff.page, during);
  await expect(thread(player.page).locator("li.pending")).toHaveCount(0);

  await stack.realtime.start();
  await expectConsistent({ player: player.page, staff: staff.page, playerId: PLAYER_29.id, texts });
  await player.context.close();
  await staff.context.close();
});

test("the web server is killed and restarted while sends are in flight", async ({ browser }) => {
  const staff = await open(browser, STAFF_ASHA, /\/staff/);
  const player = await open(browser, PLAYER_30, /\/player/);
  const first = unique("hello before the web crash");
  await send(player.page, first);
  await takeChat(staff.page, PLAYER_30.name);
  const texts = [first];

  // Five sends and a reply go out back to back; the server dies under them.
  for (let i = 1; i <= 5; i++) {
    const text = unique(`in flight ${i}`);
    texts.push(text);
    await sendNow(player.page, text);
  }
  const reply = unique("reply in flight");
  texts.push(reply);
  await sendNow(staff.page, reply);
  await stack.web.kill("SIGKILL");
  await expect(thread(player.page).locator("li.pending").first()).toBeVisible();

  await stack.web.start();
  // The outboxes retry with the same ids: each message is stored once whatever reached the server before.
  await expectConsistent({ player: player.page, staff: staff.page, playerId: PLAYER_30.id, texts });
  await player.context.close();
  await staff.context.close();
});

test("Postgres is stopped for 10 s with both portals open", async ({ browser }) => {
  const staff = await open(browser, STAFF_ASHA, /\/staff/);
  const player = await open(browser, PLAYER_31, /\/player/);
  const first = unique("before the database stops");
  await send(player.page, first);
  await takeChat(staff.page, PLAYER_31.name);
  const texts = [first];

  stack.postgres.stop();
  const stoppedAt = Date.now();
  for (const text of [unique("while the database is down 1"), unique("while the database is down 2")]) {
    texts.push(text);
    await send(player.page, text);
  }
  const reply = unique("staff while the database is down");
  texts.push(reply);
  await send(staff.page, reply);
  await expect(thread(player.page).locator("li.pending").first()).toContainText("Sending…");
  await expect(thread(staff.page).locator("li.pending").first()).toBeVisible();
  await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - stoppedAt))));
  stack.postgres.start();

  await expectConsistent({ player: player.page, staff: staff.page, playerId: PLAYER_31.id, texts });
  await player.context.close();
  await staff.context.close();
});

test("a staff portal opened while Postgres is down hears the next message once it is back", async ({ browser }) => {
  const staff = await open(browser, STAFF_VIKRAM, /\/staff/);
  await staff.page.goto("about:blank");
  // The page itself loads; every call it then makes reaches the server only once the database is down.
  let release!: () => void;
  const databaseDown = new Promise<void>((r) => {
    release = r;
  });
  await staff.page.route("**/api/**", async (route) => {
    await databaseDown;
    await route.continue();
  });
  await staff.page.goto("/staff");
  stack.postgres.stop();
  const stoppedAt = Date.now();
  release();
  await expect(banner(staff.page)).toBeVisible({ timeout: 20_000 });
  await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - stoppedAt))));
  stack.postgres.start();
  await staff.page.unroute("**/api/**");

  // No reload: the portal heals by itself and then hears what comes next.
  await expect(banner(staff.page)).toHaveCount(0, { timeout: 40_000 });
  const player = await open(browser, PLAYER_29, /\/player/);
  const text = unique("after the outage");
  await send(player.page, text);
  await expect(queueItem(staff.page, PLAYER_29.name).first()).toContainText(text, { timeout: 15_000 });
  await queueItem(staff.page, PLAYER_29.name).first().click();
  await expectConsistent({ player: player.page, staff: staff.page, playerId: PLAYER_29.id, texts: [text] });
  await player.context.close();
  await staff.context.close();
});
