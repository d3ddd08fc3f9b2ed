import { expect, test } from "@playwright/test";
import { composer, openAs, openFromQueue, PLAYER_30, STAFF_ASHA, send, signIn, thread, unique } from "./helpers";

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
  await openFromQueue(staff.page, PLAYER_30.name);
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

test("the realtime secret never reaches the browser", async ({ page, request }) => {
  await signIn(page, PLAYER_30.email, /\/player/);
  const html = await page.content();
  const scripts = await page.locator("script[src]").evaluateAll((els) => els.map((e) => (e as HTMLScriptElement).src));
  const bodies = [html, ...(await Promise.all(scripts.map(async (src) => (await request.get(src)).text())))];
  expect(scripts.length).toBeGreaterThan(0);
  expect(html).toContain("floorline-key"); // the public key is there, so we looked in the right place
  for (const body of bodies) expect(body).not.toContain("floorline-secret");
});

test("Enter sends, Shift+Enter starts a new line, and the limit is shown near 2,000 characters", async ({ page }) => {
  await signIn(page, PLAYER_30.email, /\/player/);
  const first = unique("line one");
  await composer(page).click();
  await page.keyboard.type(first);
  await page.keyboard.press("Shift+Enter");
  await page.keyboard.type("line two");
  await expect(composer(page)).toHaveValue(`${first}\nline two`);
  await page.keyboard.press("Enter");
  await expect(composer(page)).toHaveValue("");
  await expect(thread(page).getByRole("listitem").filter({ hasText: first })).toContainText("line two");

  await composer(page).fill("x".repeat(2001));
  await expect(page.getByText("Too long: 2,001 / 2,000")).toBeVisible();
  await expect(page.getByRole("button", { name: "Send" })).toBeDisabled();
  await composer(page).fill("x".repeat(1900));
  await expect(page.getByText("1,900 / 2,000")).toBeVisible();
  await expect(page.getByRole("button", { name: "Send" })).toBeEnabled();
});
