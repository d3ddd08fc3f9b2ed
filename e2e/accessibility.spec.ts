import { expect, test } from "@playwright/test";
import {
  closeOpenChat,
  composer,
  expectNoSeriousViolations,
  openAs,
  openChatItem,
  openFromQueue,
  PLAYER_30,
  PLAYER_31,
  queueItem,
  STAFF_ASHA,
  send,
  signIn,
  thread,
  trpcCall,
  unique,
} from "./helpers";

test("sign-in and not-allowed pages pass axe", async ({ page }) => {
  await page.goto("/sign-in");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await expectNoSeriousViolations(page, "sign-in");
  await signIn(page, PLAYER_30.email, /\/player/);
  await page.goto("/staff");
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expectNoSeriousViolations(page, "not allowed");
});

test("player portal passes axe with messages, offline and with a failed send", async ({ browser }) => {
  const { context, page } = await openAs(browser, PLAYER_31.email, /\/player/);
  await expect(page.getByRole("main")).toHaveCount(1);
  await expectNoSeriousViolations(page, "player portal");

  const text = unique("a11y message");
  await send(page, text);
  await expect(thread(page).getByText(text)).toBeVisible();
  await expect(thread(page).getByText("Sending…")).toHaveCount(0);
  await expectNoSeriousViolations(page, "player with messages");

  await context.setOffline(true);
  await send(page, unique("queued while offline"));
  await expect(thread(page).getByText("Waiting for connection")).toBeVisible();
  await expectNoSeriousViolations(page, "player offline");
  await context.setOffline(false);
  await expect(thread(page).getByText("Waiting for connection")).toHaveCount(0);

  // A refusal the player must act on: the message stays, failed, with Retry and Discard.
  await page.route(trpcCall("chat.send"), (route) =>
    route.fulfill({
      status: 400,
      contentType: "application/json",
      body: JSON.stringify([
        {
          error: {
            json: { message: "Refused for this test", code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400 } },
          },
        },
      ]),
    }),
  );
  await send(page, unique("refused"));
  const retry = page.getByRole("button", { name: "Retry" });
  await expect(retry).toBeVisible();
  await expectNoSeriousViolations(page, "player failed send");
  await page.unroute(trpcCall("chat.send"));
  await page.getByRole("button", { name: "Discard" }).click();
  await context.close();
});

test("staff portal passes axe: queue, open conversation, resolved", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  await send(player.page, unique("staff a11y"));
  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  const page = staff.page;
  await expect(openChatItem(page, PLAYER_30.name).first()).toBeVisible();
  await expect(page.getByRole("main")).toHaveCount(1);
  await expectNoSeriousViolations(page, "staff queue");

  await openFromQueue(page, PLAYER_30.name);
  await expect(thread(page)).toBeVisible();
  await expectNoSeriousViolations(page, "staff conversation");
  const resolve = page.getByRole("button", { name: "Resolve" });
  await resolve.click();
  await expect(page.getByRole("button", { name: "Reopen" })).toBeVisible();
  await expectNoSeriousViolations(page, "staff resolved conversation");
  await staff.context.close();
  await player.context.close();
});

test("player page at 320 px: targets are at least 44 px and the thread scrolls by keyboard @phone", async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  await signIn(page, PLAYER_31.email, /\/player/);
  await composer(page).fill("hello");
  await expectNoSeriousViolations(page, "player at 320 px");
  for (const button of await page.getByRole("button").all()) {
    if (!(await button.isVisible())) continue;
    const box = await button.boundingBox();
    expect(box?.height, (await button.textContent()) ?? "").toBeGreaterThanOrEqual(44);
    expect(box?.width, (await button.textContent()) ?? "").toBeGreaterThanOrEqual(44);
  }
  await context.close();
});

test("the floor's pages pass axe: admin, metrics, search with results, password change", async ({ browser }) => {
  const admin = await openAs(browser, "admin@floorline.test", /\/admin/);
  await expect(admin.page.getByRole("form", { name: "Create account" })).toBeVisible();
  await expectNoSeriousViolations(admin.page, "admin");
  await admin.page.goto("/staff/metrics");
  await expect(admin.page.getByRole("heading", { name: "Floor metrics" })).toBeVisible();
  await expectNoSeriousViolations(admin.page, "metrics");
  await admin.page.goto("/staff/search?q=a11y");
  await expect(admin.page.getByRole("status").filter({ hasText: /a11y/ })).toBeVisible();
  await expectNoSeriousViolations(admin.page, "search with results");
  await admin.page.goto("/account/password");
  await expect(admin.page.getByRole("button", { name: "Save password" })).toBeVisible();
  await expectNoSeriousViolations(admin.page, "password change");
  await admin.context.close();
});

test("the later states pass axe: overdue chat, rating offer and thanks, signed out", async ({ browser }) => {
  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await closeOpenChat(staff.page, PLAYER_30.name);
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  await send(player.page, unique("a11y overdue"));
  const item = queueItem(staff.page.getByRole("region", { name: /^Waiting/ }), PLAYER_30.name);
  await expect(item).toHaveAccessibleDescription(/Overdue/, { timeout: 30_000 });
  await expect(player.page.getByRole("status").filter({ hasText: "taking longer than usual" })).toBeVisible();
  await expectNoSeriousViolations(staff.page, "staff queue with an overdue chat");
  await expectNoSeriousViolations(player.page, "player told the chat is overdue");

  await openFromQueue(staff.page, PLAYER_30.name);
  await staff.page.getByRole("button", { name: "Take", exact: true }).click();
  await staff.page.getByRole("button", { name: "Resolve", exact: true }).click();
  const rating = player.page.getByRole("group", { name: /^How was your chat/ });
  await expect(rating).toBeVisible();
  await expectNoSeriousViolations(player.page, "player rating offer");
  await rating.getByRole("button", { name: "5 of 5" }).click();
  await expect(player.page.getByText("You rated this chat 5 of 5 — thank you.")).toBeVisible();
  await expectNoSeriousViolations(player.page, "player rating thanks");

  await player.context.clearCookies();
  await send(player.page, unique("after the session ended"));
  await expect(player.page.getByRole("link", { name: "Signed out — sign in again" })).toBeVisible();
  await expectNoSeriousViolations(player.page, "player signed out");
  for (const c of [staff, player]) await c.context.close();
});
