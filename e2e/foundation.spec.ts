import { expect, test } from "@playwright/test";
import { composer, openAs, PLAYER_30, queueItem, STAFF_ASHA, send, signIn, thread, unique } from "./helpers";

test("anonymous visitors are sent to sign-in; a player may not open the staff portal", async ({ page }) => {
  await page.goto("/staff");
  await expect(page).toHaveURL(/\/sign-in/);
  await signIn(page, PLAYER_30.email, /\/player/);
  await page.goto("/staff");
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
});

test("wrong password gets a clear error", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByRole("textbox", { name: "Email" }).fill(PLAYER_30.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Wrong email or password." })).toBeVisible();
});

test("a player sends; staff in another browser reads it", async ({ browser }) => {
  const text = unique("Need help with my deposit");
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  await send(player.page, text);
  await expect(composer(player.page)).toHaveValue("");
  const sent = thread(player.page).getByRole("listitem").filter({ hasText: text });
  await expect(sent).toContainText(/Sent|Delivered|Read/);

  // The message is stored: it survives a reload.
  await player.page.reload();
  await expect(thread(player.page)).toContainText(text);

  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await queueItem(staff.page, PLAYER_30.name).first().click();
  await expect(thread(staff.page)).toContainText(text);
  await expect(staff.page.getByRole("region", { name: "Player" })).toContainText(`Player ID ${PLAYER_30.id}`);

  await player.context.close();
  await staff.context.close();
});

test("sign-out ends the session", async ({ page }) => {
  await signIn(page, PLAYER_30.email, /\/player/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/player");
  await expect(page).toHaveURL(/\/sign-in/);
});
