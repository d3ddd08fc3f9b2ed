import { expect, type Page, test } from "@playwright/test";
import Pusher from "pusher";
import {
  composer,
  openAs,
  openChatItem,
  openFromQueue,
  PLAYER_31,
  STAFF_ASHA,
  send,
  thread,
  unique,
} from "../e2e/helpers";
import { clusterRealtime, clusterUrls } from "../playwright.cluster.config";

const bubble = (page: Page, text: string) => thread(page).getByRole("listitem").filter({ hasText: text });

// Two web instances need a database both can reach: Postgres (TEST_DATABASE_URL), as in CI.
test.skip(!process.env.TEST_DATABASE_URL, "needs TEST_DATABASE_URL (Postgres shared by both web instances)");

test("player on web A + node A and staff on web B + node B talk live both ways", async ({ browser }) => {
  const player = await openAs(browser, PLAYER_31.email, /\/player/, { baseURL: clusterUrls.a });
  const staff = await openAs(browser, STAFF_ASHA.email, /\/staff/, { baseURL: clusterUrls.b });
  // Staff's socket is on node B; node A's HTTP API answers for the cluster: wait until it sees them.
  const { portA, ...app } = clusterRealtime;
  const nodeA = new Pusher({ ...app, host: "127.0.0.1", port: String(portA) });
  await expect
    .poll(async () => (await (await nodeA.get({ path: "/channels/private-staff-portal" })).json()).occupied)
    .toBe(true);
  const question = unique("Across the cluster?");

  // Queue change A → B: the new request appears on staff's screen without a reload.
  await send(player.page, question);
  await expect(openChatItem(staff.page, PLAYER_31.name).first()).toContainText(question);
  // Receipt B → A: staff's screen reported it delivered, then read once opened.
  await expect(bubble(player.page, question)).toContainText("Delivered");
  await openFromQueue(staff.page, PLAYER_31.name);
  await expect(bubble(staff.page, question)).toBeVisible();
  await expect(bubble(player.page, question)).toContainText("Read");

  // Queue change B → A: taking the chat tells the player.
  await staff.page.getByRole("button", { name: "Take", exact: true }).click();
  await expect(player.page.getByRole("status").filter({ hasText: `${STAFF_ASHA.name} is with you.` })).toBeVisible();

  const answer = unique("Yes, from node B");
  await send(staff.page, answer);
  await expect(bubble(player.page, answer)).toContainText(STAFF_ASHA.name);
  await expect(bubble(staff.page, answer)).toContainText("Read");

  // Typing (client events) both ways.
  await composer(staff.page).pressSequentially("Checking", { delay: 20 });
  await expect(player.page.getByText(`${STAFF_ASHA.name} is typing…`)).toBeVisible();
  await composer(player.page).pressSequentially("thanks", { delay: 20 });
  await expect(staff.page.getByText(`${PLAYER_31.name} is typing…`)).toBeVisible();

  await staff.page.getByRole("button", { name: "Resolve", exact: true }).click();
  await player.context.close();
  await staff.context.close();
});
