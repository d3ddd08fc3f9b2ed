import { type Browser, expect, type Locator, type Page, test } from "@playwright/test";
import {
  closeOpenChat,
  composer,
  openAs,
  PLAYER_29,
  STAFF_ASHA,
  send,
  signIn,
  staffSays,
  thread,
  trpcCall,
  unique,
} from "./helpers";

/** Asha, with no chat of Ravi's open, and Ravi's portal: the two sides of his thread. */
async function ashaAndRavi(browser: Browser) {
  const asha = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await closeOpenChat(asha.page, PLAYER_29.name);
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  return { asha, player };
}

/**
 * Enough of a thread to scroll (`screens` views tall), unless earlier runs on this database left
 * it: the send limit allows a few batches, not one per repeat.
 */
async function fillThread(page: Page, screens: number) {
  const log = thread(page);
  await expect(log.getByRole("listitem").last()).toBeVisible();
  while (await log.evaluate((el, n) => el.scrollHeight < n * el.clientHeight, screens)) {
    const batch = unique("filler");
    const sent = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        page.request.post("/api/unified-chat/send", { data: { id: crypto.randomUUID(), text: `${batch} #${i}` } }),
      ),
    );
    for (const res of sent) expect(res.status()).toBe(201);
    await expect(log.getByRole("listitem").filter({ hasText: batch })).toHaveCount(10);
  }
}

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
  const time = bubble.locator("time");
  await time.hover();
  await expect(page.getByRole("tooltip").filter({ hasText: year })).toBeVisible();
  await page.mouse.move(0, 0);
  await expect(page.getByRole("tooltip")).toHaveCount(0);
  await time.focus();
  await expect(page.getByRole("tooltip").filter({ hasText: year })).toBeVisible();
  await expect(time).toHaveAccessibleDescription(new RegExp(year));
  // The times are one tab stop: Up moves to the one before.
  const times = thread(page).locator("time");
  const count = await times.count();
  await expect(thread(page).locator('time[tabindex="0"]')).toHaveCount(1);
  await page.keyboard.press("ArrowUp");
  await expect(times.nth(count - 2)).toBeFocused();

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

test("a 'New messages' separator marks what arrived unseen, and 'N new messages ↓' shows while scrolled up", async ({
  browser,
}) => {
  const asha = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await closeOpenChat(asha.page, PLAYER_29.name);
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  // Enough of a thread to scroll, sent through the club's REST endpoint with the player's session.
  const batch = unique("filler");
  for (let i = 1; i <= 30; i++) {
    const res = await player.page.request.post("/api/unified-chat/send", {
      data: { id: crypto.randomUUID(), text: `${batch} #${i}` },
    });
    expect(res.status()).toBe(201);
  }

  // Two replies while the player is away: the thread opens with a separator before the first.
  await player.page.close();
  const first = unique("first unseen reply");
  await staffSays(asha.page, PLAYER_29.id, first);
  await staffSays(asha.page, PLAYER_29.id, unique("second unseen reply"));
  const page = await player.context.newPage();
  await page.goto("/player");
  const separator = thread(page).getByRole("separator", { name: "New messages" });
  await expect(separator).toBeVisible();
  await expect(
    thread(page)
      .getByRole("listitem")
      .filter({ has: page.getByRole("separator", { name: "New messages" }) })
      .locator("xpath=following-sibling::li[1]"),
  ).toContainText(first);

  // Scrolled up, new replies do not pull the view down: a control says how many wait below.
  await expect(thread(page).getByRole("listitem").last()).toBeInViewport();
  // Up by a screen, not to the very top: there the older messages start loading, which is
  // live-chat.spec's subject; here only the reader's position matters.
  // Resolved by the scroll event itself, which the browser dispatches at its next frame: a reply
  // arriving before it would find the page still at the bottom (the page knows where the reader
  // is from its scroll events) and follow it down, as it should for a reader who had not moved.
  await thread(page).evaluate(
    (log) =>
      new Promise<void>((scrolled) => {
        log.addEventListener("scroll", () => scrolled(), { once: true });
        log.scrollTo({ top: log.scrollHeight - 2 * log.clientHeight });
      }),
  );
  const newest = unique("third reply");
  await staffSays(asha.page, PLAYER_29.id, unique("another reply"));
  await staffSays(asha.page, PLAYER_29.id, newest);
  const below = page.getByRole("button", { name: /^2 new messages/ });
  await expect(below).toBeVisible();
  await expect(thread(page).getByRole("listitem").filter({ hasText: newest })).not.toBeInViewport();
  await below.click();
  await expect(thread(page).getByRole("listitem").filter({ hasText: newest })).toBeInViewport();
  await expect(below).toHaveCount(0);
  await closeOpenChat(asha.page, PLAYER_29.name);
  for (const c of [player, asha]) await c.context.close();
});

test("a reply laid out before the reader's scroll up has fired its event does not pull them down", async ({
  browser,
}) => {
  const { asha, player } = await ashaAndRavi(browser);
  const page = player.page;
  // A short window, opened at that size: a few messages make the thread scroll.
  await page.setViewportSize({ width: 1280, height: 480 });
  await page.reload();
  const log = thread(page);
  await fillThread(page, 3);
  await expect(log.getByRole("listitem").last()).toBeInViewport();
  // The reader is typing: nothing below may take the focus away.
  await composer(page).focus();
  // What the page reports read: a reply is read when the reader has seen it, not when it arrived.
  const reportedRead: number[] = [];
  page.on("request", (req) => {
    if (!trpcCall("chat.markRead").test(req.url())) return;
    for (const m of (req.postData() ?? "").matchAll(/"upToSeq":(\d+)/g)) reportedRead.push(Number(m[1]));
  });

  // The race, made deterministic: the reader scrolls up, and the reply is laid out before the
  // scroll's event has reached the page (the browser fires it at its next frame; a reply handled
  // first is what a reader on a busy phone meets). The event is held back until the reply is in.
  const readerAt = await log.evaluate((el) => {
    const hold = (e: Event) => {
      if (e.target === el) e.stopImmediatePropagation();
    };
    window.addEventListener("scroll", hold, true);
    (window as unknown as { releaseScroll: () => void }).releaseScroll = () => {
      window.removeEventListener("scroll", hold, true);
      el.dispatchEvent(new Event("scroll"));
    };
    el.scrollTo({ top: el.scrollHeight - 2 * el.clientHeight });
    return el.scrollTop;
  });
  const reply = unique("reply in the same frame");
  await staffSays(asha.page, PLAYER_29.id, reply);
  const replyRow = log.getByRole("listitem").filter({ hasText: reply });
  await expect(replyRow).toBeAttached();
  await page.evaluate(() => (window as unknown as { releaseScroll: () => void }).releaseScroll());

  // Where the reader left the view it stays; the control says what waits below.
  const below = page.getByRole("button", { name: /^1 new message/ });
  await expect(below).toBeVisible();
  await expect(replyRow).not.toBeInViewport();
  expect(await log.evaluate((el) => el.scrollTop)).toBe(readerAt);
  await expect(composer(page)).toBeFocused();
  const replySeq = Number(await replyRow.getAttribute("data-seq"));
  expect(reportedRead.filter((seq) => seq >= replySeq)).toEqual([]);

  // Keyboard: the control is a named button; Enter takes the reader down and the thread the focus.
  await below.focus();
  await page.keyboard.press("Enter");
  await expect(replyRow).toBeInViewport();
  await expect(below).toHaveCount(0);
  await expect(log).toBeFocused();
  await expect.poll(() => Math.max(0, ...reportedRead)).toBeGreaterThanOrEqual(replySeq);

  // A reader at the bottom still follows the next reply.
  const next = unique("reply at the bottom");
  await staffSays(asha.page, PLAYER_29.id, next);
  await expect(log.getByRole("listitem").filter({ hasText: next })).toBeInViewport();
  await expect(page.getByRole("button", { name: /new messages? ↓/ })).toHaveCount(0);
  await closeOpenChat(asha.page, PLAYER_29.name);
  for (const c of [player, asha]) await c.context.close();
});

/** Where a row sits in the thread's view: its top, from the top of the log (px). */
async function offsetInLog(page: Page, row: Locator) {
  const [box, log] = await Promise.all([row.boundingBox(), thread(page).boundingBox()]);
  return (box?.y ?? Number.NaN) - (log?.y ?? Number.NaN);
}

test("through resizes a reader at the bottom stays there and one scrolled up keeps their place", async ({
  browser,
}) => {
  const { asha, player } = await ashaAndRavi(browser);
  const page = player.page;
  const log = thread(page);
  // Long messages: a narrower window wraps them onto more lines, so what is above the view grows.
  const batch = unique("long");
  const words = "a long line that wraps differently at every width of the window ".repeat(5);
  for (let i = 1; i <= 8; i++) {
    const res = await page.request.post("/api/unified-chat/send", {
      data: { id: crypto.randomUUID(), text: `${batch} #${i} ${words}` },
    });
    expect(res.status()).toBe(201);
  }
  const row = (i: number) => log.getByRole("listitem").filter({ hasText: `${batch} #${i} ` });
  await expect(row(8)).toBeInViewport({ ratio: 1 });

  // At the bottom: the composer growing to six lines, then the window shrinking (a phone's keyboard
  // opening), leave the last message where it can be read.
  await composer(page).fill("one\ntwo\nthree\nfour\nfive\nsix");
  await expect(row(8)).toBeInViewport({ ratio: 1 });
  await composer(page).fill("");
  await page.setViewportSize({ width: 1280, height: 560 });
  await expect(row(8)).toBeInViewport({ ratio: 1 });
  // After the resize the reader is still judged at the bottom: the next reply follows.
  const reply = unique("reply after a resize");
  await staffSays(asha.page, PLAYER_29.id, reply);
  await expect(log.getByRole("listitem").filter({ hasText: reply })).toBeInViewport({ ratio: 1 });
  await expect(page.getByRole("button", { name: /new messages? ↓/ })).toHaveCount(0);

  // Scrolled up (message #3 at the top of the view), a narrower window keeps #3 where it was.
  await scrollToTopOf(row(3));
  const top = await offsetInLog(page, row(3));
  await page.setViewportSize({ width: 640, height: 560 });
  await expect.poll(async () => Math.abs((await offsetInLog(page, row(3))) - top)).toBeLessThanOrEqual(1);
  // ...and a reply after that resize leaves the reader there, with the control to go down.
  const later = unique("reply while scrolled up");
  await staffSays(asha.page, PLAYER_29.id, later);
  const below = page.getByRole("button", { name: /^1 new message/ });
  await expect(below).toBeVisible();
  expect(Math.abs((await offsetInLog(page, row(3))) - top)).toBeLessThanOrEqual(1);
  await below.click();
  await expect(log.getByRole("listitem").filter({ hasText: later })).toBeInViewport({ ratio: 1 });

  // Scrolled up again, the reader sends a message of their own: the thread goes down to it, as a
  // chat does, instead of counting it as something new below.
  await scrollToTopOf(row(3));
  const own = unique("sent while scrolled up");
  await composer(page).fill(own);
  await composer(page).press("Enter");
  await expect(log.getByRole("listitem").filter({ hasText: own })).toBeInViewport({ ratio: 1 });
  await expect(page.getByRole("button", { name: /new messages? ↓/ })).toHaveCount(0);
  await closeOpenChat(asha.page, PLAYER_29.name);
  for (const c of [player, asha]) await c.context.close();
});

test("on a phone the last message stays in view when the keyboard opens and the composer grows @phone", async ({
  page,
}) => {
  await signIn(page, PLAYER_29.email, /\/player/);
  const log = thread(page);
  await fillThread(page, 2);
  const last = unique("last before the keyboard");
  const res = await page.request.post("/api/unified-chat/send", { data: { id: crypto.randomUUID(), text: last } });
  expect(res.status()).toBe(201);
  const lastRow = log.getByRole("listitem").filter({ hasText: last });
  await expect(lastRow).toBeInViewport({ ratio: 1 });
  // The keyboard takes the lower part of the screen: the thread keeps less room than a message, so
  // what must stay in view is the message's end (its receipt), as it does when the composer grows.
  const size = page.viewportSize() ?? { width: 412, height: 839 };
  const end = lastRow.getByText(/Sent|Delivered|Read/);
  await composer(page).focus();
  await page.setViewportSize({ width: size.width, height: Math.round(size.height * 0.55) });
  await expect(end).toBeInViewport({ ratio: 1 });
  await page.setViewportSize(size);
  await composer(page).fill("one\ntwo\nthree\nfour\nfive\nsix");
  await expect(end).toBeInViewport({ ratio: 1 });
});

/** Scrolls the log until `row` is at the top of its view, as a reader scrolling up would. */
function scrollToTopOf(row: Locator) {
  return row.evaluate(
    (el) =>
      new Promise<void>((scrolled) => {
        el.closest('[role="log"]')?.addEventListener("scroll", () => scrolled(), { once: true });
        el.scrollIntoView({ block: "start" });
      }),
  );
}
