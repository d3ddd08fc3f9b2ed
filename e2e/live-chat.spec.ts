import { expect, type Page, test } from "@playwright/test";
import {
  closeOpenChat,
  composer,
  openAs,
  openChatItem,
  openFromQueue,
  PLAYER_29,
  PLAYER_30,
  PLAYER_31,
  STAFF_ASHA,
  send,
  staffSays,
  thread,
  trpcCall,
  unique,
} from "./helpers";

const bubble = (page: Page, text: string) => thread(page).getByRole("listitem").filter({ hasText: text });

test("player and staff talk live, and receipts advance to read", async ({ browser }) => {
  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  const question = unique("Is the poker room open?");

  await send(player.page, question);
  // Staff see it arrive in the queue without a reload; their screen reports it delivered.
  await expect(openChatItem(staff.page, PLAYER_29.name).first()).toContainText(question);
  await expect(bubble(player.page, question)).toContainText("Delivered");

  await openFromQueue(staff.page, PLAYER_29.name);
  await expect(bubble(staff.page, question)).toBeVisible();
  await expect(bubble(player.page, question)).toContainText("Read");

  const answer = unique("Yes, table 4 is free");
  await send(staff.page, answer);
  await expect(bubble(player.page, answer)).toBeVisible();
  await expect(bubble(player.page, answer)).toContainText(STAFF_ASHA.name);
  // The player's screen shows the reply, so the staff side sees it read.
  await expect(bubble(staff.page, answer)).toContainText("Read");

  await player.context.close();
  await staff.context.close();
});

test("typing shows on the other side and goes away", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await send(player.page, unique("typing check"));
  await openFromQueue(staff.page, PLAYER_29.name);

  await composer(staff.page).pressSequentially("Let me check", { delay: 20 });
  await expect(player.page.getByText(`${STAFF_ASHA.name} is typing…`)).toBeVisible();
  await expect(player.page.getByText(`${STAFF_ASHA.name} is typing…`)).toBeHidden();

  await composer(player.page).pressSequentially("thanks", { delay: 20 });
  await expect(staff.page.getByText(`${PLAYER_29.name} is typing…`)).toBeVisible();
  await expect(staff.page.getByText(`${PLAYER_29.name} is typing…`)).toBeHidden();

  // Typing right after sending is announced at once, not after the throttle interval.
  await composer(staff.page).pressSequentially("One moment", { delay: 10 });
  await staff.page.keyboard.press("Enter");
  await expect(thread(player.page)).toContainText("One moment");
  await composer(staff.page).pressSequentially("ok", { delay: 10 });
  await expect(player.page.getByText(`${STAFF_ASHA.name} is typing…`)).toBeVisible();

  await player.context.close();
  await staff.context.close();
});

test("messages sent while the player is offline arrive once, in order, when they return", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await send(player.page, unique("going into the lift"));
  await openFromQueue(staff.page, PLAYER_30.name);

  await player.context.setOffline(true);
  await expect(player.page.getByRole("status").filter({ hasText: /Reconnecting…|You are offline/ })).toBeVisible({
    timeout: 20_000,
  });
  const replies = [unique("first"), unique("second"), unique("third")];
  for (const reply of replies) {
    await send(staff.page, reply);
    await expect(bubble(staff.page, reply)).toContainText(/Sent|Delivered|Read/);
  }
  await player.context.setOffline(false);
  await expect(player.page.getByRole("status").filter({ hasText: /Reconnecting…|You are offline/ })).toBeHidden({
    timeout: 20_000,
  });

  for (const reply of replies) await expect(bubble(player.page, reply)).toHaveCount(1);
  const texts = await thread(player.page).getByRole("listitem").allInnerTexts();
  const positions = replies.map((r) => texts.findIndex((t) => t.includes(r)));
  expect(positions).toEqual([...positions].sort((a, b) => a - b));

  await player.context.close();
  await staff.context.close();
});

test("a message written offline waits in the outbox, survives a reload, and is delivered once", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  const text = unique("sent from the car park");

  await player.context.setOffline(true);
  await send(player.page, text);
  await expect(bubble(player.page, text)).toContainText("Waiting for connection");

  // The tab goes away while offline; the outbox is in the browser's storage.
  await player.page.close();
  await player.context.setOffline(false);
  const again = await player.context.newPage();
  await again.goto("/player");
  await expect(bubble(again, text)).toContainText(/Sent|Delivered|Read/);
  await expect(bubble(again, text)).toHaveCount(1);

  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await openFromQueue(staff.page, PLAYER_31.name);
  await expect(bubble(staff.page, text)).toHaveCount(1);

  await player.context.close();
  await staff.context.close();
});

test("two player tabs stay consistent and markup is shown as text", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_30.email, /\/player/);
  const secondTab = await player.context.newPage();
  await secondTab.goto("/player");
  let dialogs = 0;
  for (const page of [player.page, secondTab]) page.on("dialog", () => dialogs++);

  const markup = `<img src=x onerror=alert(1)> ${unique("xss")}`;
  await send(player.page, markup);
  await expect(bubble(player.page, markup)).toBeVisible();
  await expect(bubble(secondTab, markup)).toBeVisible();
  await expect(bubble(secondTab, markup)).toHaveCount(1);
  expect(await thread(secondTab).locator("img").count()).toBe(0);

  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await openFromQueue(staff.page, PLAYER_30.name);
  await expect(bubble(staff.page, markup)).toBeVisible();
  const reply = unique("Both tabs see this");
  await send(staff.page, reply);
  await expect(bubble(player.page, reply)).toBeVisible();
  await expect(bubble(secondTab, reply)).toBeVisible();
  expect(dialogs).toBe(0);

  await player.context.close();
  await staff.context.close();
});

test("the player portal fits a phone screen @phone", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByRole("textbox", { name: "Email" }).fill(PLAYER_29.email);
  await page.getByLabel("Password").fill("floorline-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Send" })).toBeInViewport();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test("a send that fails on the network is kept and retried until it is stored once", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  let attempts = 0;
  // The server cannot be reached for this call (the rest of the page still works).
  await player.page.route(trpcCall("chat.send"), (route) => {
    attempts++;
    return route.abort("connectionreset");
  });
  const text = unique("dropped on the way");
  await send(player.page, text);
  await expect(bubble(player.page, text)).toContainText("Sending…");
  await expect.poll(() => attempts).toBeGreaterThan(1);
  await player.page.unroute(trpcCall("chat.send"));
  await expect(bubble(player.page, text)).toContainText(/Sent|Delivered|Read/);
  await player.page.reload();
  await expect(bubble(player.page, text)).toHaveCount(1);
  await player.context.close();
});

test("older messages load when the player scrolls up, in order and once", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  // Sixty messages through the club's REST endpoint, with the player's own session cookie.
  const batch = unique("history");
  for (let i = 1; i <= 60; i++) {
    const res = await player.page.request.post("/api/unified-chat/send", {
      data: { id: crypto.randomUUID(), text: `${batch} #${String(i).padStart(2, "0")}` },
    });
    expect(res.status()).toBe(201);
  }
  await player.page.reload();
  const ours = thread(player.page).getByRole("listitem").filter({ hasText: batch });
  await expect(ours.last()).toContainText(`${batch} #60`);
  await expect(ours.filter({ hasText: `${batch} #01` })).toHaveCount(0); // beyond the first page

  await thread(player.page).evaluate((log) => log.scrollTo({ top: 0 }));
  await expect(ours.filter({ hasText: `${batch} #01` })).toHaveCount(1);
  // The view stays where the reader was: the message that was at the top is still in sight, the
  // ones loaded above it are not.
  await expect(ours.filter({ hasText: `${batch} #11` })).toBeInViewport();
  await expect(ours.filter({ hasText: `${batch} #01` })).not.toBeInViewport();
  const texts = await ours.allInnerTexts();
  const numbers = texts.map((t) => Number(/#(\d\d)/.exec(t)?.[1]));
  expect(numbers).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  await player.context.close();
});

test("a staff reply queued in one chat keeps retrying while another chat is open", async ({ browser }) => {
  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  const first = await openAs(browser, PLAYER_29.email, /\/player/);
  const second = await openAs(browser, PLAYER_30.email, /\/player/);
  await send(first.page, unique("first chat"));
  await send(second.page, unique("second chat"));
  await openFromQueue(staff.page, PLAYER_29.name);
  const take = staff.page.getByRole("button", { name: "Take" });
  if (await take.isVisible()) await take.click();

  // The reply cannot reach the server for now; it waits in the portal's outbox.
  await staff.page.route(trpcCall("staff.reply"), (route) => route.abort("connectionreset"));
  const reply = unique("queued while you look elsewhere");
  await send(staff.page, reply);
  await expect(bubble(staff.page, reply)).toContainText("Sending…");

  // The staff member moves on to another chat; the queued reply is not in view any more.
  await openFromQueue(staff.page, PLAYER_30.name);
  await expect(bubble(staff.page, reply)).toHaveCount(0);
  await staff.page.unroute(trpcCall("staff.reply"));
  await expect(bubble(first.page, reply)).toHaveCount(1, { timeout: 30_000 });

  // Back in the first chat it is stored, once.
  await openFromQueue(staff.page, PLAYER_29.name);
  await expect(bubble(staff.page, reply)).toHaveCount(1);
  await expect(bubble(staff.page, reply)).toContainText(/Sent|Delivered|Read/);
  for (const c of [staff, first, second]) await c.context.close();
});

test("after an offline spell the thread is in seq order: a reply sent meanwhile, then the player's queued messages", async ({
  browser,
}) => {
  const asha = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await closeOpenChat(asha.page, PLAYER_29.name);
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  const opening = unique("before the lift");
  await send(player.page, opening);
  await expect(bubble(player.page, opening)).toContainText(/Sent|Delivered|Read/);

  await player.context.setOffline(true);
  await expect(player.page.getByRole("status").filter({ hasText: "You are offline" })).toBeVisible();
  const queued = [unique("queued one"), unique("queued two")];
  for (const text of queued) {
    await send(player.page, text);
    await expect(bubble(player.page, text)).toContainText("Waiting for connection");
  }
  // Stored while the player is away: its seq comes before the queued messages'.
  const meanwhile = unique("reply during the outage");
  await staffSays(asha.page, PLAYER_29.id, meanwhile);
  await player.context.setOffline(false);

  for (const text of queued) await expect(bubble(player.page, text)).toContainText(/Sent|Delivered|Read/);
  await expect(bubble(player.page, meanwhile)).toHaveCount(1);
  const rows = thread(player.page).locator("li[data-seq]");
  const seqs = await rows.evaluateAll((items) => items.map((li) => Number((li as HTMLElement).dataset.seq)));
  expect(seqs.length).toBeGreaterThan(3);
  expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
  const texts = await rows.allInnerTexts();
  const order = [opening, meanwhile, ...queued].map((t) => texts.findIndex((row) => row.includes(t)));
  expect(order.every((i) => i >= 0)).toBe(true);
  expect(order).toEqual([...order].sort((a, b) => a - b));
  await closeOpenChat(asha.page, PLAYER_29.name);
  for (const c of [player, asha]) await c.context.close();
});
