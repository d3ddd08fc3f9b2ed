import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type Browser, expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { type Stack, startStack } from "../tests/support/stack";
import {
  DEMO_PASSWORD,
  openAs,
  PLAYER_29,
  PLAYER_30,
  PLAYER_31,
  STAFF_ASHA,
  STAFF_VIKRAM,
  send,
  signIn,
  thread,
  unique,
} from "./helpers";

/**
 * Running the floor on a stack of its own (private Postgres, realtime server, web server as
 * `npm start` runs it) with auto-assignment ON — the suite's usual server has it off so the other
 * specs can take chats by hand — and accounts this spec may deactivate without disturbing them.
 */
const BASE_PORT = Number(process.env.E2E_FLOOR_PORT_BASE ?? 6281);
const ADMIN = { email: "admin@floorline.test", name: "Priya (admin)" };

test.describe.configure({ mode: "serial" });

let stack: Stack;
let db: pg.Pool;
test.beforeAll(async () => {
  test.setTimeout(180_000);
  stack = await startStack(BASE_PORT, { AUTO_ASSIGN_CHATS: "true" });
  db = new pg.Pool({ connectionString: stack.postgres.url, max: 2 });
});
test.afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

const open = (browser: Browser, who: { email: string }, landing: RegExp) =>
  openAs(browser, who.email, landing, { baseURL: stack.url });
const status = (player: Page) => player.getByRole("status").filter({ hasText: /with you|in the queue|on duty/ });
const accepting = (staff: Page) => staff.getByRole("checkbox", { name: "Accepting chats" });

/** Most open chats any staff member holds, straight from the database. */
async function mostHeld() {
  const { rows } = await db.query<{ n: number }>(
    `select coalesce(max(n), 0)::int as n from (select count(*) as n from chat_requests
       where status = 'in_progress' group by assigned_staff_id) held`,
  );
  return rows[0]?.n ?? 0;
}

test("auto-assignment: a new chat goes to the accepting staff member with fewer open chats; nobody passes their capacity; a resolve hands the next one on", async ({
  browser,
}) => {
  const admin = await open(browser, ADMIN, /\/admin/);
  for (const who of [STAFF_ASHA, STAFF_VIKRAM]) {
    const field = admin.page.getByRole("spinbutton", { name: `Capacity of ${who.name}` });
    await field.fill("1");
    await field.blur();
  }
  await expect
    .poll(
      async () => (await db.query("select max_concurrent_chats from staff where display_name like '%(floor)'")).rows,
    )
    .toEqual([{ max_concurrent_chats: 1 }, { max_concurrent_chats: 1 }]);

  const asha = await open(browser, STAFF_ASHA, /\/staff/);
  const vikram = await open(browser, STAFF_VIKRAM, /\/staff/);
  await expect(accepting(vikram.page)).toBeEnabled();
  if (await accepting(vikram.page).isChecked()) await accepting(vikram.page).click();
  await expect(accepting(vikram.page)).not.toBeChecked();
  await expect(accepting(asha.page)).toBeChecked();

  // Only Asha is accepting: Player 29's chat is hers at once, nobody pressed Take.
  const ravi = await open(browser, PLAYER_29, /\/player/);
  await send(ravi.page, unique("First in"));
  await expect(status(ravi.page)).toHaveText(`${STAFF_ASHA.name} is with you.`);

  // Vikram comes on duty with nothing open: Player 30 goes to him (0 open chats against Asha's 1).
  await accepting(vikram.page).click();
  await expect(accepting(vikram.page)).toBeChecked();
  const meera = await open(browser, PLAYER_30, /\/player/);
  await send(meera.page, unique("Second in"));
  await expect(status(meera.page)).toHaveText(`${STAFF_VIKRAM.name} is with you.`);

  // Both at their limit of 1: Player 31 waits, and nobody holds more than one.
  const arjun = await open(browser, PLAYER_31, /\/player/);
  await send(arjun.page, unique("Third in"));
  await expect(status(arjun.page)).toContainText("you are number 1 in the queue");
  expect(await mostHeld()).toBe(1);

  // Asha resolves hers: the waiting chat is handed to her, live on both sides.
  const mine = asha.page.getByRole("region", { name: /^In progress/ }).getByRole("link", { name: /^Ravi Kumar/ });
  await mine.click();
  await asha.page.getByRole("button", { name: "Resolve", exact: true }).click();
  await expect(status(arjun.page)).toHaveText(`${STAFF_ASHA.name} is with you.`);
  await expect(thread(arjun.page)).toContainText(`${STAFF_ASHA.name} is with you`);
  await expect(
    asha.page.getByRole("region", { name: /^In progress/ }).getByRole("link", { name: /^Arjun Rao/ }),
  ).toBeVisible();
  expect(await mostHeld()).toBe(1);
  for (const c of [admin, asha, vikram, ravi, meera, arjun]) await c.context.close();
});

/** A staff portal signed in and live, with its realtime sockets watched (each: has it closed?). */
async function staffPortalWatched(browser: Browser, who: { email: string }) {
  const context = await browser.newContext({ baseURL: stack.url });
  const page = await context.newPage();
  const sockets: { url: string; closed: boolean }[] = [];
  page.on("websocket", (ws) => {
    const entry = { url: ws.url(), closed: false };
    sockets.push(entry);
    ws.on("close", () => {
      entry.closed = true;
    });
  });
  await signIn(page, who.email, /\/staff/);
  await expect(accepting(page)).toBeEnabled();
  await expect.poll(() => sockets.length).toBeGreaterThan(0);
  return { context, page, sockets };
}

/**
 * What "ended at once" looks like from the deactivated person's open page, without them doing
 * anything: the server closed its socket (4009), the page says it is signed out (it stays where it
 * is: one rule for every ended session, app/_auth/signed-out.ts) and its session no longer answers.
 */
async function expectEnded(page: Page, sockets: { closed: boolean }[]) {
  const again = page.getByRole("link", { name: "Signed out — sign in again" }).first();
  await expect(again).toBeVisible({ timeout: 20_000 });
  expect(sockets.length).toBeGreaterThan(0);
  await expect.poll(() => sockets.every((s) => s.closed)).toBe(true);
  expect((await page.request.get("/api/trpc/staff.me")).status()).toBe(401);
  return again;
}

test("an admin deactivates a staff member on /admin: their open portal loses its session and socket at once", async ({
  browser,
}) => {
  const { context: vikram, page, sockets } = await staffPortalWatched(browser, STAFF_VIKRAM);

  const admin = await open(browser, ADMIN, /\/admin/);
  admin.page.once("dialog", (dialog) => void dialog.accept());
  await admin.page.getByRole("button", { name: `Deactivate ${STAFF_VIKRAM.name}` }).click();
  await expect(admin.page.getByRole("button", { name: `Reactivate ${STAFF_VIKRAM.name}` })).toBeVisible();

  await (await expectEnded(page, sockets)).click();
  // And cannot come back until reactivated.
  await page.getByRole("textbox", { name: "Email" }).fill(STAFF_VIKRAM.email);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in/);

  await admin.page.getByRole("button", { name: `Reactivate ${STAFF_VIKRAM.name}` }).click();
  await expect(admin.page.getByRole("button", { name: `Deactivate ${STAFF_VIKRAM.name}` })).toBeVisible();
  await admin.context.close();
  await vikram.close();
});

test("npm run admin -- deactivate, against the running app: the person's open portal loses its session and socket at once", async ({
  browser,
}) => {
  const { context: asha, page, sockets } = await staffPortalWatched(browser, STAFF_ASHA);

  const admin = (...args: string[]) =>
    promisify(execFile)("npm", ["run", "--silent", "admin", "--", ...args], { env: stack.env });
  const { stdout } = await admin("deactivate", STAFF_ASHA.email);
  expect(stdout).toContain(`Deactivated ${STAFF_ASHA.email}; its sessions were ended.`);
  await expectEnded(page, sockets);

  expect((await admin("reactivate", STAFF_ASHA.email)).stdout).toContain(`Reactivated ${STAFF_ASHA.email}.`);
  await asha.close();
});
