import { randomBytes } from "node:crypto";
import { defineConfig, devices } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3210);
const realtimePort = Number(process.env.E2E_REALTIME_PORT ?? 6201);
const baseURL = `http://localhost:${port}`;

// CI: a fresh Postgres database per run (TEST_DATABASE_URL). Locally without it: a fresh
// embedded database, so runs never see each other's data.
const database: Record<string, string> = process.env.TEST_DATABASE_URL
  ? {
      DATABASE_URL: process.env.TEST_DATABASE_URL,
      SEED_DEMO_DATA: "true",
      // A database URL makes this a deployment: it must bring its own secrets.
      BETTER_AUTH_SECRET: randomBytes(32).toString("hex"),
      PUSHER_SECRET: randomBytes(32).toString("hex"),
    }
  : { PGLITE_DATA_DIR: ".data/e2e" };

export default defineConfig({
  testDir: "e2e",
  // The specs share the demo accounts: one at a time keeps them from answering each other.
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // A guard against a test that never ends, not a speed limit: a hang is caught at its step
  // (actionTimeout, navigationTimeout, expect's 10 s). A spec is a flow of two to four portals, and
  // on a busy 2-core machine (load 25) each sign-in alone took ~10 s, each step 1–3 s: the Take /
  // Resolve / Reopen and the transfer specs ran out a 60 s budget while still moving.
  timeout: 180_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    // A click or page load that never completes fails at that step, named in the report, instead
    // of running out a serial spec's 3-minute test timeout with nothing said about where it hung.
    actionTimeout: 45_000,
    navigationTimeout: 60_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], channel: undefined }, grepInvert: /@phone/ },
    { name: "phone", use: { ...devices["Pixel 7"], channel: undefined }, grep: /@phone/ },
  ],
  webServer: {
    command: process.env.TEST_DATABASE_URL ? "npm start" : "rm -rf .data/e2e .data/e2e.lock && npm start",
    url: `${baseURL}/sign-in`,
    // It builds first (npm start) — minutes on a busy 2-core machine.
    timeout: 600_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...database,
      PORT: String(port),
      APP_URL: baseURL,
      REALTIME_PORT: String(realtimePort),
      AUTH_SIGN_IN_LIMIT_PER_MINUTE: "1000",
      // The specs take chats by hand (Take, races between two staff); auto-assignment has its own tests.
      AUTO_ASSIGN_CHATS: "false",
      // Room for the specs that post many messages at once; security.spec.ts uses it up on purpose.
      PLAYER_SEND_BURST: "100",
      // A slow refill, so the send-limit spec's next send is refused however long the browser takes to
      // make it (at 1/s a busy machine sometimes waited out the allowance first).
      PLAYER_SEND_PER_SECOND: "0.2",
      // A chat escalates within a test's time (portal-state.spec.ts); the default is 60 s.
      ESCALATE_AFTER_SECONDS: "15",
      ESCALATION_CHECK_SECONDS: "1",
      // Push is configured but OneSignal is unreachable from here: the portal must not care.
      NEXT_PUBLIC_ONESIGNAL_APP_ID: "4b9a6b5e-2f3c-4d1a-9e8f-7a6b5c4d3e2f",
    },
  },
});
