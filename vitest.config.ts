import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // A migrated PGlite, dumped once, for every test's PGlite to start from.
    globalSetup: ["tests/support/pglite-template.ts"],
    // expect.poll waits for a condition; its 1 s default failed under load (15–20 on 2 cores). A
    // poll ends as soon as the condition holds, so a long limit costs a passing run nothing; it
    // stays inside testTimeout so a poll that never holds fails with its own message.
    expect: { poll: { timeout: 15_000 } },
    // PGlite and real sockets: keep files in separate processes, few at a time on 2 cores.
    pool: "forks",
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: "unit", include: ["tests/**/*.test.ts"] } },
      {
        // The realtime conformance suite again, against two nodes on Redis (SDK → node A, clients → node B).
        extends: true,
        test: {
          name: "realtime-cluster",
          include: ["tests/realtime/channels.test.ts", "tests/realtime/http-api.test.ts"],
          env: { REALTIME_CONFORMANCE: "cluster" },
        },
      },
    ],
  },
});
