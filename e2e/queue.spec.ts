import { expect, test } from "@playwright/test";
import { openAs, PLAYER_31, queueItem, STAFF_ASHA, STAFF_VIKRAM, send, thread, unique } from "./helpers";

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
