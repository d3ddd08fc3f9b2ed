import { type Browser, expect, test } from "@playwright/test";
import { closeOpenChat, openAs, PLAYER_31, queueItem, STAFF_VIKRAM, send, signIn, unique } from "./helpers";

test("with OneSignal configured but unreachable the staff page works, and the title counts what needs attention", async ({
  browser,
}) => {
  const context = await browser.newContext();
  // Unreachable for certain, even on a machine with internet access.
  await context.route(/onesignal\.com/, (route) => route.abort());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await signIn(page, STAFF_VIKRAM.email, /\/staff/);

  await page.getByText("Alerts", { exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Push notifications" })).toContainText("unavailable");
  await expect(page.getByRole("checkbox", { name: "Mute alert sound" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Allow browser notifications" })).toBeVisible();

  const waiting = page.getByRole("region", { name: /^Waiting/ });
  // Earlier specs may leave Player 31 with an open chat: close it here, so the chat this test
  // opens adds exactly one to whatever needed attention before it.
  await closeOpenChat(page, PLAYER_31.name);
  await expect(queueItem(waiting, PLAYER_31.name)).toHaveCount(0);
  await expect(page.getByRole("region", { name: /^In progress/ }).getByText(PLAYER_31.name)).toHaveCount(0);
  const before = Number(/^\((\d+)\) /.exec(await page.title())?.[1] ?? 0);

  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  const text = unique("Can someone bring water");
  await send(player.page, text);
  await expect(queueItem(waiting, PLAYER_31.name)).toContainText(text);
  await expect(page).toHaveTitle(`(${before + 1}) Queue · Floorline staff`);

  // The chat is still usable: open it and answer.
  await queueItem(waiting, PLAYER_31.name).click();
  await page.getByRole("button", { name: "Take" }).click();
  await send(page, "On my way");
  await expect(player.page.getByRole("log")).toContainText("On my way");
  // Closed again, so no later spec finds Player 31 held by Vikram (only he could close it).
  await page.getByRole("button", { name: "Resolve", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Chat resolved" })).toBeVisible();
  expect(errors).toEqual([]);

  await player.context.close();
  await context.close();
});

test("a player's message in my chat shows one notification while no staff tab is on screen", async ({ browser }) => {
  const { player, shown, close } = await staffAwayFromMyChat(browser);
  const text = unique("Still waiting on that towel");
  await send(player.page, text);
  await expect.poll(() => shown(text)).toEqual([`Message from ${PLAYER_31.name} | ${text}`]);
  await close();
});

test("a message that reaches the staff socket twice alerts once", async ({ browser }) => {
  // Hosted Pusher has no idempotency keys: a publish retried after a lost answer reaches sockets
  // again. Here every app event on the staff tab's socket arrives twice.
  const { player, shown, close } = await staffAwayFromMyChat(browser, { everyEventTwice: true });
  const text = unique("Towel, please");
  await send(player.page, text);
  // Frames arrive in order: once the next message has alerted, both copies of the first were handled.
  const after = unique("Are you coming?");
  await send(player.page, after);
  await expect.poll(async () => (await shown(after)).length).toBeGreaterThan(0);
  expect(await shown(text)).toEqual([`Message from ${PLAYER_31.name} | ${text}`]);
  await close();
});

/**
 * A staff tab (Vikram) holding Player 31's chat, with a recording Notification (permission
 * granted), then hidden: nobody is looking, so a player's message shows a notification.
 * Headless tabs are always "visible": visibility is faked.
 */
async function staffAwayFromMyChat(browser: Browser, opts: { everyEventTwice?: boolean } = {}) {
  const context = await browser.newContext();
  await context.route(/onesignal\.com/, (route) => route.abort());
  if (opts.everyEventTwice)
    await context.routeWebSocket(
      (url) => url.pathname.startsWith("/app/"),
      (ws) => {
        const server = ws.connectToServer();
        server.onMessage((frame) => {
          ws.send(frame);
          if (typeof frame === "string" && !/"event":"pusher/.test(frame)) ws.send(frame);
        });
      },
    );
  await context.addInitScript(() => {
    const w = window as unknown as { __shown: string[]; __hidden: boolean; Notification: unknown };
    w.__shown = [];
    w.__hidden = false;
    w.Notification = class {
      static permission = "granted";
      static requestPermission = async () => "granted";
      onclick: unknown = null;
      constructor(title: string, options?: { body?: string }) {
        w.__shown.push(`${title} | ${options?.body ?? ""}`);
      }
      close() {}
    };
    Object.defineProperty(document, "visibilityState", { get: () => (w.__hidden ? "hidden" : "visible") });
  });
  const page = await context.newPage();
  await signIn(page, STAFF_VIKRAM.email, /\/staff/);
  await closeOpenChat(page, PLAYER_31.name);

  // Player 31's chat, taken by this staff member.
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  await send(player.page, unique("Could I get a towel"));
  const waiting = page.getByRole("region", { name: /^Waiting/ });
  await queueItem(waiting, PLAYER_31.name).click();
  await page.getByRole("button", { name: "Take" }).click();
  await expect(player.page.getByRole("status").first()).toContainText("Vikram");

  // The staff member walks away from the screen.
  await page.evaluate(() => {
    (window as unknown as { __hidden: boolean }).__hidden = true;
    document.dispatchEvent(new Event("visibilitychange"));
  });
  return {
    page,
    player,
    /** The notifications shown so far whose text includes `text`. */
    shown: (text: string) =>
      page.evaluate((t) => (window as unknown as { __shown: string[] }).__shown.filter((s) => s.includes(t)), text),
    close: async () => {
      await player.context.close();
      await context.close();
    },
  };
}

test("until the browser allows sound, the staff page says so and one click turns it on", async ({ browser }) => {
  const staff = await openAs(browser, STAFF_VIKRAM.email, /\/staff/);
  const notice = staff.page.getByRole("button", { name: "Click to turn on sound" });
  await expect(notice).toBeVisible();
  await notice.click();
  await expect(notice).toHaveCount(0);
  // Not for someone who muted the tone: there is nothing to turn on.
  await staff.page.getByText("Alerts", { exact: true }).click();
  await staff.page.getByRole("checkbox", { name: "Mute alert sound" }).check();
  const second = await staff.context.newPage();
  await second.goto("/staff");
  await expect(second.getByRole("heading", { name: /^Waiting/ })).toBeVisible();
  await expect(second.getByRole("button", { name: "Click to turn on sound" })).toHaveCount(0);
  await staff.page.getByRole("checkbox", { name: "Mute alert sound" }).uncheck();
  await staff.context.close();
});
