import { expect, test } from "@playwright/test";
import {
  closeOpenChat,
  openAs,
  openChatItem,
  PLAYER_30,
  PLAYER_31,
  queueItem,
  STAFF_ASHA,
  STAFF_VIKRAM,
  send,
  thread,
  trpcCall,
  unique,
} from "./helpers";

test("Take, Resolve and Reopen, with a second staff member watching live", async ({ browser }) => {
  // One staff portal open (and no other: earlier specs closed theirs), so exactly one on duty.
  const asha = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  const text = unique("Lost my locker key");
  await send(player.page, text);
  // Then the usual wait, once chats were taken in the last two hours (floor.spec.ts checks it).
  await expect(
    player.page.getByText(/you are number \d+ in the queue · 1 staff member on duty( · usual wait [^·]+)?$/),
  ).toBeVisible();

  const vikram = await openAs(browser, STAFF_VIKRAM.email, /\/staff/);
  const waiting = (page: typeof asha.page) => page.getByRole("region", { name: /^Waiting/ });
  const inProgress = (page: typeof asha.page) => page.getByRole("region", { name: /^In progress/ });
  await expect(queueItem(waiting(vikram.page), PLAYER_31.name)).toContainText(text);

  await queueItem(waiting(asha.page), PLAYER_31.name).click();
  await expect(thread(asha.page)).toContainText(text);
  await asha.page.getByRole("button", { name: "Take", exact: true }).click();
  const ashaCard = asha.page.getByRole("region", { name: "Player" });
  await expect(ashaCard).toContainText("With you");
  await expect(player.page.getByRole("status").filter({ hasText: `${STAFF_ASHA.name} is with you.` })).toBeVisible();

  // Vikram's queue moves the chat without a reload; he can read but not answer it.
  await expect(queueItem(inProgress(vikram.page), PLAYER_31.name)).toBeVisible();
  await queueItem(inProgress(vikram.page), PLAYER_31.name).click();
  const vikramCard = vikram.page.getByRole("region", { name: "Player" });
  await expect(vikramCard).toContainText("With another staff member");
  await expect(vikram.page.getByText("Another staff member is handling this chat.")).toBeVisible();
  await expect(vikram.page.getByRole("button", { name: "Take", exact: true })).toHaveCount(0);

  await asha.page.getByRole("button", { name: "Resolve", exact: true }).click();
  await expect(ashaCard).toContainText("Resolved");
  await expect(vikramCard).toContainText("Resolved");
  await expect(vikram.page.getByRole("button", { name: "Reopen", exact: true })).toBeVisible();

  await asha.page.getByRole("button", { name: "Reopen", exact: true }).click();
  await expect(ashaCard).toContainText("With you");
  await expect(asha.page.getByRole("textbox", { name: "Message" })).toBeVisible();
  await asha.page.getByRole("button", { name: "Resolve", exact: true }).click();
  await expect(ashaCard).toContainText("Resolved");

  for (const c of [player, asha, vikram]) await c.context.close();
});

test("queue items are links: a click opens the chat even before the page's scripts have run", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  const text = unique("opened before hydration");
  await send(player.page, text);
  await expect(thread(player.page).getByRole("listitem").filter({ hasText: text })).toContainText(/Sent|Delivered/);
  const asha = await openAs(browser, STAFF_ASHA.email, /\/staff/);

  // The same session with scripts off: what a click meets before the page has hydrated.
  const bare = await browser.newContext({ javaScriptEnabled: false, storageState: await asha.context.storageState() });
  const page = await bare.newPage();
  await page.goto("/staff");
  await openChatItem(page, PLAYER_30.name).first().click();
  await expect(page).toHaveURL(/\/staff\?request=[0-9a-f-]{36}$/);

  // That address, with scripts, is the chat.
  await asha.page.goto(page.url());
  await expect(asha.page.getByRole("region", { name: "Player" })).toContainText(PLAYER_30.name);
  await expect(thread(asha.page)).toContainText(text);
  await closeOpenChat(asha.page, PLAYER_30.name);
  for (const c of [player, asha, { context: bare }]) await c.context.close();
});

test("errors are told in plain words: a broken chat link, and a Take that cannot reach the server", async ({
  browser,
}) => {
  const asha = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  const page = asha.page;
  const paneAlert = page.getByRole("region", { name: "Conversation" }).getByRole("alert");
  await page.goto("/staff?request=not-a-chat");
  await expect(paneAlert).toHaveText("This chat could not be found. The link may be broken.");

  await page.goto("/staff");
  await closeOpenChat(page, PLAYER_30.name);
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  await send(player.page, unique("take me"));
  const waiting = queueItem(page.getByRole("region", { name: /^Waiting/ }), PLAYER_30.name);
  await expect(waiting).toBeVisible();
  await waiting.click();
  // The Take never reaches the server (retried, then given up): the words say what happened.
  await page.route(trpcCall("staff.claim"), (route) => route.abort());
  await page.getByRole("button", { name: "Take", exact: true }).click();
  await expect(paneAlert).toHaveText("Could not reach Floorline. Check the connection and try again.", {
    timeout: 20_000,
  });
  await page.unroute(trpcCall("staff.claim"));
  await closeOpenChat(page, PLAYER_30.name);
  for (const c of [asha, player]) await c.context.close();
});
