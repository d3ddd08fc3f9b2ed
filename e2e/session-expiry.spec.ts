import { expect, type Page, test } from "@playwright/test";
import { composer, DEMO_PASSWORD, openAs, PLAYER_31, send, signIn, thread, unique } from "./helpers";

const signInAgain = (page: Page) => page.getByRole("link", { name: "Signed out — sign in again" });

/** The header no longer presents the player as signed in. */
async function expectSignedOutHeader(page: Page) {
  await expect(page.getByRole("banner")).not.toContainText(`Player ID ${PLAYER_31.id}`);
  await expect(page.getByRole("button", { name: "Sign out" })).toHaveCount(0);
}

test("an expired session says so, and signing in again returns to the page with outbox and draft intact", async ({
  browser,
}) => {
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  const page = player.page;
  await expect(thread(page)).toBeVisible();
  await expect(page.getByRole("banner")).toContainText(`Player ID ${PLAYER_31.id}`);
  // The session ends without this tab being told (expired, or its cookie gone).
  await player.context.clearCookies();
  const text = unique("written after the session ended");
  await send(page, text);
  const again = signInAgain(page);
  await expect(again).toBeVisible();
  await expectSignedOutHeader(page);
  await expect(thread(page).getByRole("listitem").filter({ hasText: text })).toContainText(
    "Waiting for you to sign in",
  );
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

test("a refused subscription after the session ended shows the same signed-out state, not another page", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Channel authorizations wait until the session is gone, so the page's first subscriptions are
  // refused (401) — what happens when a session ends while a tab is connecting or reconnecting.
  let sessionGone!: () => void;
  const gone = new Promise<void>((resolve) => {
    sessionGone = resolve;
  });
  await page.route("**/api/realtime/auth", async (route) => {
    await gone;
    await route.continue();
  });
  const refused = page.waitForResponse((r) => r.url().includes("/api/realtime/auth") && r.status() === 401);
  await signIn(page, PLAYER_31.email, /\/player/);
  await expect(page.getByRole("banner")).toContainText(`Player ID ${PLAYER_31.id}`);
  await context.clearCookies();
  sessionGone();
  await refused;

  await expect(signInAgain(page)).toBeVisible();
  await expectSignedOutHeader(page);
  await expect(page).toHaveURL(/\/player$/);
  // Typing still works and is kept for after signing in.
  const draft = unique("typed while signed out");
  await composer(page).fill(draft);
  await expect(composer(page)).toHaveValue(draft);
  await expect(page).toHaveURL(/\/player$/);
  await context.close();
});
