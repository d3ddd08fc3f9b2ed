import { expect, type Locator, type Page, test } from "@playwright/test";
import sharp from "sharp";
import {
  closeOpenChat,
  composer,
  expectNoSeriousViolations,
  openAs,
  openChatItem,
  openFromQueue,
  PLAYER_29,
  PLAYER_30,
  PLAYER_31,
  STAFF_ASHA,
  thread,
  unique,
} from "./helpers";

const bubble = (page: Page, text: string) => thread(page).getByRole("listitem").filter({ hasText: text });

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 30, g: 140, b: 90 } } })
    .png()
    .toBuffer();
const jpeg = () =>
  sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 60, b: 40 } } })
    .jpeg()
    .toBuffer();

/**
 * Picks a file through the composer's "Attach a photo" button, as a person does. A click that
 * lands before the page has hydrated opens nothing, so it clicks again until the picker opens.
 */
async function attach(page: Page, file: { name: string; mimeType: string; buffer: Buffer }) {
  await expect(async () => {
    const chooser = page.waitForEvent("filechooser", { timeout: 2000 });
    await page.getByRole("button", { name: "Attach a photo" }).click();
    await (await chooser).setFiles(file);
  }).toPass({ timeout: 15_000 });
}

/** The image really loaded (the browser decoded it), at this natural width. */
async function expectLoaded(img: Locator, width?: number) {
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeTruthy();
  if (width !== undefined) expect(await img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(width);
}

test("a player sends a payment screenshot; staff see it live, open it full size, and answer with a photo", async ({
  browser,
}) => {
  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await closeOpenChat(staff.page, PLAYER_29.name);
  const player = await openAs(browser, PLAYER_29.email, /\/player/);
  const description = unique("UPI payment of 2,000");

  await attach(player.page, { name: "receipt.png", mimeType: "image/png", buffer: await png(1200, 900) });
  await expect(player.page.getByRole("img", { name: "Attached: receipt.png" })).toBeVisible();
  await composer(player.page).fill(description);
  await player.page.getByRole("button", { name: "Send" }).click();
  await expect(player.page.getByRole("img", { name: "Attached: receipt.png" })).toBeHidden();

  const mine = player.page.getByRole("button", { name: `Open photo: ${description}` });
  await expect(bubble(player.page, description)).toContainText(/Sent|Delivered|Read/);
  await expectLoaded(mine.getByRole("img"), 320);
  await expectNoSeriousViolations(player.page, "player with a photo");

  // Staff: the queue hears it without a reload, and the conversation shows the thumbnail.
  await expect(openChatItem(staff.page, PLAYER_29.name).first()).toContainText(description);
  await openFromQueue(staff.page, PLAYER_29.name);
  const theirs = staff.page.getByRole("button", { name: `Open photo: ${description}` });
  await expectLoaded(theirs.getByRole("img"), 320);

  // Opened by keyboard: the full image in a dialog; Escape closes it and focus returns.
  await theirs.focus();
  await staff.page.keyboard.press("Enter");
  const dialog = staff.page.getByRole("dialog", { name: description });
  await expect(dialog).toBeVisible();
  await expectLoaded(dialog.getByRole("img", { name: description }), 1200);
  await expectNoSeriousViolations(staff.page, "staff with a photo open");
  await staff.page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(theirs).toBeFocused();

  // The stored file is served as what sharp wrote, never as something a browser would render as a page…
  const src = await theirs.getByRole("img").getAttribute("src");
  if (!src) throw new Error("the thumbnail has no src");
  const full = src.replace("?size=thumb", "");
  const served = await staff.page.request.get(full);
  expect(served.status()).toBe(200);
  expect(served.headers()).toMatchObject({ "content-type": "image/png", "x-content-type-options": "nosniff" });
  expect(served.headers()["content-security-policy"]).toContain("sandbox");
  // …and only to the thread's player and staff: another player's session, or none, gets nothing.
  const other = await openAs(browser, PLAYER_30.email, /\/player/);
  expect((await other.page.request.get(full)).status()).toBe(403);
  expect((await other.page.request.get(src)).status()).toBe(403);
  await other.context.close();
  const anonymous = await browser.newContext();
  expect((await anonymous.request.get(full)).status()).toBe(401);
  await anonymous.close();

  // Staff answer with a photo and no description: the player sees it live, named by its sender.
  await staff.page.getByRole("button", { name: "Take", exact: true }).click();
  await attach(staff.page, { name: "IMG_0042.jpg", mimeType: "image/jpeg", buffer: await jpeg() });
  await staff.page.getByRole("button", { name: "Send" }).click();
  const fromStaff = player.page.getByRole("button", { name: `Open photo: Photo from ${STAFF_ASHA.name}` });
  await expect(fromStaff).toHaveCount(1);
  await expectLoaded(fromStaff.getByRole("img"), 320);

  await player.context.close();
  await staff.context.close();
});

test("what is not a JPEG, PNG or WebP photo is refused with a sentence", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_29.email, /\/player/);

  // Declared as an SVG: refused in the browser at once.
  await attach(player.page, {
    name: "logo.svg",
    mimeType: "image/svg+xml",
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
  });
  await expect(
    player.page.getByRole("alert").filter({ hasText: "Only JPEG, PNG or WebP photos can be sent" }),
  ).toBeVisible();

  // Over 5 MB: refused in the browser before anything is sent.
  await attach(player.page, { name: "huge.jpg", mimeType: "image/jpeg", buffer: Buffer.alloc(5 * 1024 * 1024 + 1) });
  await expect(
    player.page.getByRole("alert").filter({ hasText: "The photo is too large: at most 5 MB" }),
  ).toBeVisible();

  // A text file named .jpg passes the browser's look at its name; the server reads its bytes.
  const note = unique("not a photo");
  await attach(player.page, { name: "receipt.jpg", mimeType: "image/jpeg", buffer: Buffer.from(`${note}\n`) });
  await composer(player.page).fill(note);
  await player.page.getByRole("button", { name: "Send" }).click();
  await expect(bubble(player.page, note)).toContainText("Not sent: Only JPEG, PNG or WebP photos can be sent");
  await expectNoSeriousViolations(player.page, "player with a refused photo");
  await bubble(player.page, note).getByRole("button", { name: "Discard" }).click();
  await expect(bubble(player.page, note)).toHaveCount(0);

  await player.context.close();
});

test("a photo sent offline waits in the outbox, survives a reload, and is delivered once", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_31.email, /\/player/);
  const description = unique("ticket from the car park");

  await player.context.setOffline(true);
  await attach(player.page, { name: "ticket.png", mimeType: "image/png", buffer: await png(400, 300) });
  await composer(player.page).fill(description);
  await player.page.getByRole("button", { name: "Send" }).click();
  await expect(bubble(player.page, description)).toContainText("Waiting for connection");
  await expectLoaded(bubble(player.page, description).getByRole("img", { name: "Your photo, not sent yet" }));

  // The tab goes away while offline: the entry is in localStorage, the photo in IndexedDB.
  await player.page.close();
  await player.context.setOffline(false);
  const again = await player.context.newPage();
  await again.goto("/player");
  const sent = again.getByRole("button", { name: `Open photo: ${description}` });
  await expect(sent).toHaveCount(1);
  await expect(bubble(again, description)).toContainText(/Sent|Delivered|Read/);
  await expectLoaded(sent.getByRole("img"), 320); // the thumbnail of a 400 px wide photo

  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/);
  await openFromQueue(staff.page, PLAYER_31.name);
  await expect(staff.page.getByRole("button", { name: `Open photo: ${description}` })).toHaveCount(1);

  await player.context.close();
  await staff.context.close();
});
