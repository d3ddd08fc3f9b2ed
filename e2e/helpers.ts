import { randomUUID } from "node:crypto";
import { type Browser, expect, type Page } from "@playwright/test";

export const DEMO_PASSWORD = "floorline-demo";
export const PLAYER_29 = { email: "player29@floorline.test", name: "Ravi Kumar", id: 29 };
export const PLAYER_30 = { email: "player30@floorline.test", name: "Meera Shah", id: 30 };
export const PLAYER_31 = { email: "player31@floorline.test", name: "Arjun Rao", id: 31 };
export const STAFF_ASHA = { email: "asha@floorline.test", name: "Asha (floor)" };
export const STAFF_VIKRAM = { email: "vikram@floorline.test", name: "Vikram (floor)" };

/** Text no earlier run could have written, so assertions never match old history. */
export const unique = (label: string) => `${label} ${randomUUID().slice(0, 8)}`;

export async function signIn(page: Page, email: string, landing: RegExp) {
  await page.goto("/sign-in");
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(landing);
}

/** A signed-in page in its own browser context (its own cookies, storage and network); `baseURL` picks a web instance. */
export async function openAs(browser: Browser, email: string, landing: RegExp, baseURL?: string) {
  const context = await browser.newContext(baseURL ? { baseURL } : {});
  const page = await context.newPage();
  page.on("pageerror", (err) => {
    throw err;
  });
  await signIn(page, email, landing);
  return { context, page };
}

export const thread = (page: Page) => page.getByRole("log");
export const composer = (page: Page) => page.getByRole("textbox", { name: "Message" });

export async function send(page: Page, text: string) {
  await composer(page).fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

export function queueItem(page: Pick<Page, "getByRole">, playerName: string) {
  return page.getByRole("button", { name: new RegExp(`^${playerName}`) });
}
