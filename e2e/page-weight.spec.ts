import { gzipSync } from "node:zlib";
import { expect, test } from "@playwright/test";
import { PLAYER_29, signIn } from "./helpers";

test("the player page loads at most 200 KB of gzipped JavaScript", async ({ page }) => {
  await signIn(page, PLAYER_29.email, /\/player/);
  const scripts = new Map<string, number>();
  page.on("response", async (res) => {
    if (res.request().resourceType() !== "script") return;
    const body = await res.body().catch(() => null);
    if (body) scripts.set(res.url(), gzipSync(body, { level: 9 }).length);
  });
  await page.reload({ waitUntil: "networkidle" });
  await expect(page.getByRole("log")).toBeVisible();
  const totalKB = [...scripts.values()].reduce((a, b) => a + b, 0) / 1024;
  console.log(`player page: ${scripts.size} scripts, ${totalKB.toFixed(1)} KB gzipped`);
  expect(scripts.size).toBeGreaterThan(0);
  expect(totalKB).toBeLessThanOrEqual(200);
});
