import { expect, test } from "@playwright/test";
import { composer, openAs, PLAYER_29, send, thread, unique } from "./helpers";

test("thread structure: safe links, dir=auto, day divider, full date on hover, growing composer, drafts kept", async ({
  browser,
}) => {
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  const page = player.page;
  const marker = unique("links");
  await send(page, `${marker} pay at https://example.com/pay?x=1 not javascript:alert(1) שלום 123`);
  const bubble = thread(page).getByRole("listitem").filter({ hasText: marker });
  const link = bubble.getByRole("link", { name: "https://example.com/pay?x=1" });
  await expect(link).toHaveAttribute("href", "https://example.com/pay?x=1");
  await expect(link).toHaveAttribute("rel", "noopener noreferrer");
  await expect(bubble.getByRole("link")).toHaveCount(1);
  await expect(bubble.getByText(/pay at/)).toHaveAttribute("dir", "auto");
  // Every day in the thread starts with a divider; today's says so.
  await expect(thread(page).getByRole("separator", { name: "Today" })).toBeVisible();
  // The full date is there for whoever hovers or focuses the time.
  const year = String(new Date().getFullYear());
  await expect(bubble.locator("time")).toHaveAttribute("title", new RegExp(year));

  const box = composer(page);
  const before = (await box.boundingBox())?.height ?? 0;
  await box.fill("one\ntwo\nthree\nfour\nfive");
  await expect.poll(async () => (await box.boundingBox())?.height ?? 0).toBeGreaterThan(before * 1.8);

  const draft = unique("half-typed draft");
  await box.fill(draft);
  await page.reload();
  await expect(composer(page)).toHaveValue(draft);
  await composer(page).fill("");
  await page.reload();
  await expect(composer(page)).toHaveValue("");
  await player.context.close();
});

test("offline is shown at once and the status line claims nothing while disconnected", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  const page = player.page;
  await send(page, unique("before the lift"));
  const statusLine = page.getByRole("status").filter({ hasText: /queue|with you|on duty/ });
  await expect(statusLine).toBeVisible();
  await player.context.setOffline(true);
  // At once: well inside the socket's own ~10 s ping timeout.
  await expect(page.getByRole("status").filter({ hasText: "You are offline" })).toBeVisible({ timeout: 2_000 });
  await expect(statusLine).toHaveCount(0);
  await player.context.setOffline(false);
  await expect(page.getByRole("status").filter({ hasText: "You are offline" })).toHaveCount(0);
  await expect(statusLine).toBeVisible();
  await player.context.close();
});
