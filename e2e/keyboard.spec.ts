import { expect, type Locator, type Page, test } from "@playwright/test";
import {
  closeOpenChat,
  DEMO_PASSWORD,
  openAs,
  PLAYER_30,
  PLAYER_31,
  STAFF_ASHA,
  STAFF_VIKRAM,
  send,
  thread,
  unique,
} from "./helpers";

const card = (page: Page) => page.getByRole("region", { name: "Player" });

/** Presses Tab (or Shift+Tab) until `target` has the focus; fails if it never does. */
async function tabTo(page: Page, target: Locator, opts: { back?: boolean; max?: number } = {}) {
  for (let i = 0; i < (opts.max ?? 250); i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press(opts.back ? "Shift+Tab" : "Tab");
  }
  await expect(target).toBeFocused();
}

test("the whole staff flow by keyboard only: sign in, open a chat from the queue, take, reply, resolve, reopen, transfer, switch chats", async ({
  browser,
}) => {
  // Over a hundred single key presses, each two round trips to the browser (press, then ask where
  // the focus is), and the more resolved chats the queue lists the more stops there are: at load 25
  // on 2 cores the flow had 10 s of steps left at 120 s, and at load 27 ran out the suite's 180 s,
  // no step slower than 4 s. A longer guard, for this flow only.
  test.setTimeout(300_000);
  // Setting the scene with the mouse is fine; the staff member below uses only Tab, Enter and Space.
  const setup = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await closeOpenChat(setup.page, PLAYER_31.name);
  // The last step switches to another resolved chat: make one, so the spec passes on its own too.
  const earlier = await openAs(browser, PLAYER_30.email, /\/player/);
  await send(earlier.page, unique("an earlier question"));
  await setup.page.reload();
  await closeOpenChat(setup.page, PLAYER_30.name);
  await expect(
    setup.page
      .getByRole("region", { name: /^Resolved/ })
      .getByRole("link", { name: new RegExp(`^${PLAYER_30.name}`) })
      .first(),
  ).toBeVisible();
  for (const c of [setup.context, earlier.context]) await c.close();
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  const question = unique("keyboard question");
  await send(player.page, question);

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/sign-in");
  await tabTo(page, page.getByRole("textbox", { name: "Email" }));
  await page.keyboard.type(STAFF_ASHA.email);
  await tabTo(page, page.getByLabel("Password"));
  await page.keyboard.type(DEMO_PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/staff/);

  const item = page
    .getByRole("region", { name: /^Waiting/ })
    .getByRole("link", { name: new RegExp(`^${PLAYER_31.name}`) });
  await expect(item).toContainText(question);
  await tabTo(page, item);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("region", { name: "Player" })).toContainText(PLAYER_31.name);

  await tabTo(page, page.getByRole("button", { name: "Take", exact: true }));
  await page.keyboard.press("Space");
  // Focus lands in the reply box: type and send with Enter.
  const box = page.getByRole("textbox", { name: "Message" });
  await expect(box).toBeFocused();
  const reply = unique("answered by keyboard");
  await page.keyboard.type(reply);
  await page.keyboard.press("Enter");
  await expect(thread(player.page)).toContainText(reply);

  await tabTo(page, page.getByRole("button", { name: "Resolve", exact: true }), { back: true });
  await page.keyboard.press("Space");
  await expect(page.getByRole("status").filter({ hasText: "Chat resolved" })).toBeVisible();
  await expect(page.getByRole("heading", { name: new RegExp(PLAYER_31.name) })).toBeFocused();
  await expect(
    thread(player.page).getByText(`Chat closed by ${STAFF_ASHA.name} — write any time to start again`).last(),
  ).toBeVisible();

  // Reopen lands in the reply box again; then transfer to Vikram; then switch to another chat.
  await tabTo(page, page.getByRole("button", { name: "Reopen", exact: true }));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status").filter({ hasText: "Chat reopened" })).toBeVisible();
  await expect(box).toBeFocused();

  // Transfer: arrows pick Vikram in the list, Tab to Transfer, Enter. The form goes away with the
  // chat, so the result is announced and focus moves to the player's name.
  const transferTo = page.getByRole("combobox", { name: "Transfer to" });
  await tabTo(page, transferTo);
  const picked = async () => (await transferTo.locator("option:checked").textContent()) ?? "";
  for (let i = 0; i < 20 && !(await picked()).includes(STAFF_VIKRAM.name); i++) await page.keyboard.press("ArrowDown");
  await expect(transferTo.locator("option:checked")).toContainText(STAFF_VIKRAM.name);
  await tabTo(page, page.getByRole("button", { name: "Transfer", exact: true }));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status").filter({ hasText: `Chat transferred to ${STAFF_VIKRAM.name}` })).toBeVisible();
  await expect(card(page)).toContainText("With another staff member");
  await expect(page.getByRole("heading", { name: new RegExp(PLAYER_31.name) })).toBeFocused();
  const chatUrl = page.url();

  // Vikram (by mouse: not the flow under test) closes it, so the next run starts clean.
  const vikram = await openAs(browser, STAFF_VIKRAM.email, /\/staff/);
  await vikram.page.goto(chatUrl);
  await expect(card(vikram.page)).toContainText("With you");
  await vikram.page.getByRole("button", { name: "Resolve", exact: true }).click();
  await expect(card(vikram.page)).toContainText("Resolved");

  const other = page
    .getByRole("region", { name: /^Resolved/ })
    .getByRole("link")
    .filter({ hasNotText: PLAYER_31.name })
    .first();
  await tabTo(page, other, { back: true });
  await page.keyboard.press("Enter");
  await expect(page).not.toHaveURL(chatUrl);
  await expect(page.getByRole("region", { name: "Player" })).not.toContainText(PLAYER_31.name);
  for (const c of [player.context, vikram.context, context]) await c.close();
});
