import { expect, test } from "@playwright/test";
import { composer, DEMO_PASSWORD, openAs, PLAYER_31, send, thread, unique } from "./helpers";

test("an expired session says so, and signing in again returns to the page with outbox and draft intact", async ({
  browser,
}) => {
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  const page = player.page;
  await expect(thread(page)).toBeVisible();
  // The session ends without this tab being told (expired, or its cookie gone).
  await player.context.clearCookies();
  const text = unique("written after the session ended");
  await send(page, text);
  const again = page.getByRole("link", { name: "Signed out — sign in again" });
  await expect(again).toBeVisible();
  const draft = unique("draft kept");
  await composer(page).fill(draft);

  await again.click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.getByRole("textbox", { name: "Email" }).fill(PLAYER_31.email);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/player/);
  // The queued message goes out once, and the half-typed one is still there.
  await expect(thread(page).getByRole("listitem").filter({ hasText: text })).toHaveCount(1);
  await expect(thread(page).getByRole("listitem").filter({ hasText: text })).toContainText(/Sent|Delivered|Read/);
  await expect(composer(page)).toHaveValue(draft);
  await player.context.close();
});
