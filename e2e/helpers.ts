import { randomUUID } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { type Browser, expect, type Page } from "@playwright/test";

export const DEMO_PASSWORD = "floorline-demo";
export const PLAYER_29 = { email: "player29@floorline.test", name: "Ravi Kumar", id: 29 };
export const PLAYER_30 = { email: "player30@floorline.test", name: "Meera Shah", id: 30 };
export const PLAYER_31 = { email: "player31@floorline.test", name: "Arjun Rao", id: 31 };
export const STAFF_ASHA = { email: "asha@floorline.test", name: "Asha (floor)" };
export const STAFF_VIKRAM = { email: "vikram@floorline.test", name: "Vikram (floor)" };

/** Text no earlier run could have written, so assertions never match old history. */
export const unique = (label: string) => `${label} ${randomUUID().slice(0, 8)}`;

export async function signIn(page: Page, email: string, landing: RegExp) {
  await page.goto("/sign-in");
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(landing);
}

/** A signed-in page in its own browser context (its own cookies, storage and network). */
export async function openAs(browser: Browser, email: string, landing: RegExp, opts: { baseURL?: string } = {}) {
  const context = await browser.newContext(opts.baseURL ? { baseURL: opts.baseURL } : {});
  const page = await context.newPage();
  page.on("pageerror", (err) => {
    throw err;
  });
  await signIn(page, email, landing);
  return { context, page };
}

/**
 * The tRPC requests that carry `procedure`. The client batches calls made together into one
 * request ("/api/trpc/staff.markMessages,staff.claim?batch=1"), so a pattern that expects the
 * procedure first misses it whenever another call happens to share its request.
 */
export function trpcCall(procedure: string): RegExp {
  return new RegExp(`/api/trpc/([^?]*,)?${procedure.replaceAll(".", "\\.")}(,|\\?|$)`);
}

export const thread = (page: Page) => page.getByRole("log");
export const composer = (page: Page) => page.getByRole("textbox", { name: "Message" });

export async function send(page: Page, text: string) {
  await composer(page).fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

/** A staff message to a player by Player ID through the club's REST endpoint, with the staff page's session. */
export async function staffSays(staff: Page, playerId: number, text: string) {
  const res = await staff.request.post("/api/player-chat-integration/send", {
    data: { playerId, id: randomUUID(), text },
  });
  expect(res.ok()).toBe(true);
}

export function queueItem(page: Pick<Page, "getByRole">, playerName: string) {
  return page.getByRole("link", { name: new RegExp(`^${playerName}`) });
}

/**
 * The player's open chat (waiting or in progress) in the staff queue. Never `queueItem(page, name)`
 * for it: the Resolved section lists the same player's earlier chats, so until the new chat's live
 * event reaches the page (late on a loaded machine) that match is an old, resolved chat.
 */
export function openChatItem(staff: Page, playerName: string) {
  return queueItem(staff.getByRole("region", { name: /^(Waiting|In progress)/ }), playerName);
}

/** Earlier specs may leave this player's chat open with Asha, or Asha not accepting: start from neither. */
export async function closeOpenChat(staff: Page, playerName: string) {
  await expect(staff.getByRole("heading", { name: /^Waiting/ })).toBeVisible();
  const accepting = staff.getByRole("checkbox", { name: "Accepting chats" });
  await expect(accepting).toBeEnabled();
  if (!(await accepting.isChecked())) {
    await accepting.click();
    await expect(accepting).toBeChecked();
  }
  if ((await openChatItem(staff, playerName).count()) === 0) return;
  await openFromQueue(staff, playerName);
  // A waiting chat is taken first: only its holder may resolve it.
  const take = staff.getByRole("button", { name: "Take", exact: true });
  const resolve = staff.getByRole("button", { name: "Resolve", exact: true });
  if ((await take.count()) > 0) {
    await take.click();
    await expect(resolve).toBeVisible();
  }
  if ((await resolve.count()) === 0) return;
  await resolve.click();
  await expect(staff.getByRole("status").filter({ hasText: "Chat resolved" })).toBeVisible();
  await staff.goto("/staff");
}

/**
 * Opens a player's open chat from the staff queue (a link: it works before the page has hydrated),
 * waiting for it to be there. Done when the address is that chat's: a pane already showing one of
 * the player's other chats has their name too, and what a caller reads next would be that chat's.
 */
export async function openFromQueue(staff: Page, playerName: string) {
  const item = openChatItem(staff, playerName).first();
  const href = await item.getAttribute("href");
  await item.click();
  await expect(staff).toHaveURL((url) => `${url.pathname}${url.search}` === href);
  await expect(staff.getByRole("region", { name: "Player" })).toContainText(playerName);
}

/** Every page and state: no serious or critical axe-core violation. */
export async function expectNoSeriousViolations(page: Page, state: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad, `axe on ${state}`).toEqual([]);
}
