import { expect, type Page, test } from "@playwright/test";
import {
  closeOpenChat,
  composer,
  openAs,
  PLAYER_29,
  PLAYER_30,
  queueItem,
  STAFF_ASHA,
  STAFF_VIKRAM,
  send,
  thread,
  unique,
} from "./helpers";

const ADMIN = { email: "admin@floorline.test", name: "Priya (admin)" };
const waiting = (page: Page) => page.getByRole("region", { name: /^Waiting/ });
const card = (page: Page) => page.getByRole("region", { name: "Player" });

async function openWaitingChat(page: Page, playerName: string, text: string) {
  await queueItem(waiting(page), playerName).click();
  await expect(thread(page)).toContainText(text);
}

test("an admin creates a staff account; the new person signs in with the temporary password, changes it, and takes a chat", async ({
  browser,
}) => {
  const admin = await openAs(browser, ADMIN.email, /\/admin/);
  const email = `${unique("new").replace(" ", "-")}@floorline.test`;
  const create = admin.page.getByRole("form", { name: "Create account" });
  await create.getByRole("combobox", { name: "Role" }).selectOption("staff");
  await create.getByRole("textbox", { name: "Name" }).fill("Neha (new)");
  await create.getByRole("textbox", { name: "Email" }).fill(email);
  await create.getByRole("button", { name: "Create account" }).click();
  const status = admin.page.getByRole("status").filter({ hasText: `Created ${email}` });
  await expect(status).toBeVisible();
  const temporary = ((await status.textContent()) ?? "").match(/Temporary password: (\S+)/)?.[1] ?? "";
  expect(temporary).toMatch(/^[a-z2-9]{14}$/);

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByLabel("Password").fill(temporary);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/account\/password/);
  await page.getByLabel("Temporary password").fill(temporary);
  await page.getByLabel("New password", { exact: true }).fill("neha-new-password");
  await page.getByLabel("Repeat new password").fill("neha-new-password");
  await page.getByRole("button", { name: "Save password" }).click();
  await expect(page).toHaveURL(/\/staff$/);

  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  const text = unique("New staff, hello");
  await send(player.page, text);
  await openWaitingChat(page, PLAYER_30.name, text);
  await page.getByRole("button", { name: "Take", exact: true }).click();
  await expect(card(page)).toContainText("With you");
  await page.getByRole("button", { name: "Resolve", exact: true }).click();
  await expect(card(page)).toContainText("Resolved");
  for (const c of [admin.context, context, player.context]) await c.close();
});

test("the admin page's controls are disabled until its scripts have run, so an early click is never silently lost", async ({
  browser,
}) => {
  const admin = await openAs(browser, ADMIN.email, /\/admin/);
  // The same session with scripts off: what a click meets before the page has hydrated. An enabled
  // Deactivate there did nothing, no confirm and no request (floor-live.spec.ts, under load).
  const bare = await browser.newContext({ javaScriptEnabled: false, storageState: await admin.context.storageState() });
  const page = await bare.newPage();
  await page.goto("/admin");
  await expect(page.getByRole("button", { name: `Deactivate ${STAFF_VIKRAM.name}` })).toBeDisabled();
  await expect(page.getByRole("spinbutton", { name: `Capacity of ${STAFF_VIKRAM.name}` })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Create account" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Add canned reply" })).toBeDisabled();

  // With scripts, the same controls work.
  await expect(admin.page.getByRole("button", { name: `Deactivate ${STAFF_VIKRAM.name}` })).toBeEnabled();
  await expect(admin.page.getByRole("button", { name: "Add canned reply" })).toBeEnabled();
  for (const c of [admin, { context: bare }]) await c.context.close();
});

test("two staff press Take at once: one wins, the other is told who did", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  const asha = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  const vikram = await openAs(browser, STAFF_VIKRAM.email, /\/staff/);
  // A chat of Ravi's an earlier spec left open would take the message below instead of a new
  // waiting one (run on its own after live-chat.spec, Asha still held it).
  for (const staff of [asha, vikram]) await closeOpenChat(staff.page, PLAYER_29.name);
  const text = unique("Both of you?");
  await send(player.page, text);
  await openWaitingChat(asha.page, PLAYER_29.name, text);
  await openWaitingChat(vikram.page, PLAYER_29.name, text);
  // Both press Take. The loser's click may never land: once the winner's take reaches the loser's
  // screen the button is gone (a click retried after a layout shift was seen to wait for it until
  // the test timed out), so a press ends when its click is done or its card shows the chat taken.
  const press = (page: Page) =>
    Promise.race([
      page.getByRole("button", { name: "Take", exact: true }).click(),
      expect(card(page)).toContainText(/With you|With another staff member/),
    ]);
  await Promise.all([press(asha.page), press(vikram.page)]);
  const outcomes = await Promise.all(
    [asha.page, vikram.page].map(async (page) => {
      await expect(card(page)).toContainText(/With you|With another staff member/);
      return (await card(page).textContent())?.includes("With you") ? "won" : "lost";
    }),
  );
  expect([...outcomes].sort()).toEqual(["lost", "won"]);
  const winner = outcomes[0] === "won" ? asha : vikram;
  const loser = winner === asha ? vikram : asha;
  const winnerName = winner === asha ? STAFF_ASHA.name : STAFF_VIKRAM.name;
  // Told who won: by the refused Take's answer, or — when the winner's event arrived first and the
  // button was gone before the click landed — by the conversation naming the holder.
  await expect(loser.page.getByText(`With ${winnerName}`, { exact: true })).toBeVisible();
  await winner.page.getByRole("button", { name: "Resolve", exact: true }).click();
  await expect(card(winner.page)).toContainText("Resolved");
  for (const c of [player, asha, vikram]) await c.context.close();
});

test("a transfer moves the chat live; a note reaches other staff live, never the player; / inserts a canned reply; a release tells the player the usual wait; metrics count the resolved chat", async ({
  browser,
}) => {
  const admin = await openAs(browser, ADMIN.email, /\/admin/);
  const title = unique("Locker");
  const body = unique("Your locker key is at the front desk.");
  const form = admin.page.getByRole("form", { name: "New canned reply" });
  await form.getByRole("textbox", { name: "Title" }).fill(title);
  await form.getByRole("textbox", { name: "Reply" }).fill(body);
  await form.getByRole("button", { name: "Add canned reply" }).click();
  await expect(admin.page.getByRole("form", { name: `Canned reply ${title}` })).toBeVisible();

  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  const asha = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  const vikram = await openAs(browser, STAFF_VIKRAM.email, /\/staff/);
  // A chat of Ravi's an earlier spec left open would take the message below instead of a new
  // waiting one (run on its own after live-chat.spec, Asha still held it). Closed before the
  // metrics are read, so the one resolve they count is this spec's.
  for (const staff of [asha, vikram]) await closeOpenChat(staff.page, PLAYER_29.name);

  const metrics = await browser.newPage({ storageState: await admin.context.storageState() });
  await metrics.goto("/staff/metrics");
  const todayCaption = metrics.getByText(/^Today: \d+ chats, \d+ resolved$/);
  const resolvedBefore = Number(/(\d+) resolved/.exec((await todayCaption.textContent()) ?? "")?.[1]);
  // Players' ratings: today's row and Vikram's cell in the per-staff table ("No ratings" is 0).
  const todayRating = metrics
    .getByRole("table", { name: /^Today:/ })
    .getByRole("row", { name: /^Player rating/ })
    .getByRole("cell");
  const vikramRating = metrics
    .getByRole("table", { name: "This week per staff member" })
    .getByRole("row")
    .filter({ has: metrics.getByRole("rowheader", { name: STAFF_VIKRAM.name, exact: true }) })
    .getByRole("cell")
    .last();
  const ratedIn = async (cell: typeof todayRating) =>
    Number(/\((\d+) rated\)/.exec((await cell.textContent()) ?? "")?.[1] ?? 0);
  const todayRatedBefore = await ratedIn(todayRating);
  const vikramRatedBefore = (await vikramRating.count()) ? await ratedIn(vikramRating) : 0;

  const text = unique("Where is my locker key");
  await send(player.page, text);
  await openWaitingChat(asha.page, PLAYER_29.name, text);
  await asha.page.getByRole("button", { name: "Take", exact: true }).click();
  await expect(card(asha.page)).toContainText("With you");

  // Vikram watches the chat Asha holds, notes open: her note appears on his screen live.
  await queueItem(vikram.page.getByRole("region", { name: /^In progress/ }), PLAYER_29.name).click();
  await expect(card(vikram.page)).toContainText("With another staff member");
  await vikram.page.getByText("Notes and timeline").click();

  // Note: staff see it, the player never does.
  const note = unique("VIP, be gentle");
  await asha.page.getByText("Notes and timeline").click();
  await asha.page.getByRole("textbox", { name: "Internal note (staff only)" }).fill(note);
  await asha.page.getByRole("button", { name: "Add note" }).click();
  await expect(asha.page.getByRole("region", { name: "Internal notes" })).toContainText(note);
  await expect(asha.page.getByRole("region", { name: "Timeline" })).toContainText("Asha (floor) added a note");
  await expect(vikram.page.getByRole("region", { name: "Internal notes" })).toContainText(note);

  // Canned reply: "/" then part of the title, Enter puts the reply in the box.
  await composer(asha.page).pressSequentially(`/${title.split(" ")[1]}`);
  await expect(asha.page.getByRole("option", { name: new RegExp(title) })).toBeVisible();
  await composer(asha.page).press("Enter");
  await expect(composer(asha.page)).toHaveValue(body);
  await asha.page.getByRole("button", { name: "Send" }).click();
  await expect(thread(player.page)).toContainText(body);
  await expect(player.page.getByText(note)).toHaveCount(0);

  // Transfer to Vikram: his portal shows it with him, live.
  const select = asha.page.getByRole("combobox", { name: "Transfer to" });
  const option = ((await select.locator("option", { hasText: "Vikram" }).textContent()) ?? "").trim();
  await select.selectOption({ label: option });
  await asha.page.getByRole("button", { name: "Transfer", exact: true }).click();
  await expect(card(asha.page)).toContainText("With another staff member");
  await expect(card(vikram.page)).toContainText("With you");

  // Release: the player reads that they are back in the queue, with the usual wait (chats were taken
  // in the last two hours); Vikram takes it again to resolve it.
  await vikram.page.getByRole("button", { name: "Release", exact: true }).click();
  await expect(thread(player.page)).toContainText(
    `${STAFF_VIKRAM.name} put your chat back in the queue — the next free staff member will answer`,
  );
  await expect(player.page.getByRole("status").filter({ hasText: /in the queue/ })).toContainText(
    /usual wait (under a minute|about \d+ min)$/,
  );
  await vikram.page.getByRole("button", { name: "Take", exact: true }).click();
  await expect(card(vikram.page)).toContainText("With you");
  await vikram.page.getByRole("button", { name: "Resolve", exact: true }).click();
  await expect(card(vikram.page)).toContainText("Resolved");
  await player.page
    .getByRole("group", { name: `How was your chat with ${STAFF_VIKRAM.name}?` })
    .getByRole("button", { name: "5 of 5" })
    .click();
  await expect(player.page.getByText("You rated this chat 5 of 5 — thank you.")).toBeVisible();

  await metrics.reload();
  await expect(todayCaption).toContainText(`${resolvedBefore + 1} resolved`);
  await expect(todayRating).toContainText(`(${todayRatedBefore + 1} rated)`);
  await expect(vikramRating).toContainText(`(${vikramRatedBefore + 1} rated)`);
  for (const c of [admin.context, player.context, asha.context, vikram.context]) await c.close();
  await metrics.close();
});

test("staff search past chats by words, name and Player ID; a hit opens its conversation", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  const word = unique("jackpot").replace(" ", "");
  await send(player.page, `Did my ${word} win pay out?`);
  await expect(thread(player.page)).toContainText(word);

  const asha = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await asha.page.getByRole("navigation", { name: "Staff pages" }).getByRole("link", { name: "Search" }).click();
  const box = asha.page.getByRole("searchbox", { name: "Search past chats" });
  const results = asha.page.getByRole("list", { name: "Search results" });
  await box.fill(word);
  await box.press("Enter");
  await expect(results.getByRole("link")).toHaveCount(1);
  await expect(results.getByRole("link")).toContainText(`${PLAYER_30.name} · Player ID ${PLAYER_30.id}`);
  await expect(asha.page).toHaveURL(new RegExp(`q=${word}`));

  // By Player ID and by name: the same message is among the hits.
  for (const q of [String(PLAYER_30.id), PLAYER_30.name]) {
    await box.fill(q);
    await box.press("Enter");
    // The previous search's hits stay on screen until this one's arrive, and include the message:
    // only the status names the search the list is for.
    await expect(asha.page.getByRole("status").filter({ hasText: `Results for “${q}”` })).toBeVisible();
    await expect(results.getByRole("link", { name: new RegExp(word) })).toBeVisible();
  }
  await box.fill(unique("nothingmatches").replace(" ", ""));
  await box.press("Enter");
  await expect(asha.page.getByRole("status").filter({ hasText: "Nothing found" })).toBeVisible();

  await box.fill(word);
  await box.press("Enter");
  await results.getByRole("link", { name: new RegExp(word) }).click();
  await expect(asha.page).toHaveURL(/\/staff\?request=/);
  await expect(card(asha.page)).toContainText(PLAYER_30.name);
  await expect(thread(asha.page)).toContainText(word);
  await closeOpenChat(asha.page, PLAYER_30.name);
  for (const c of [player.context, asha.context]) await c.close();
});
