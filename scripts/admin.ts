import { openMigrated } from "@/db/open";
import { env } from "@/env";
import { runAdminCommand } from "@/server/admin/cli";
import { createAuth } from "@/server/auth";
import { getPublisher } from "@/server/publisher";
import { endRealtimeSession } from "@/server/revocation";

// `npm run admin -- create-admin you@club.example`: accounts for a deployment that has no admin yet.
const handle = await openMigrated({ databaseUrl: env.DATABASE_URL, pgliteDataDir: env.PGLITE_DATA_DIR }).catch(
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
try {
  process.exitCode = await runAdminCommand(
    handle.db,
    process.argv.slice(2),
    {
      out: (line) => console.log(line),
      err: (line) => console.error(line),
    },
    async () =>
      // Deactivation ends the account's sessions and, through the realtime server, their live connections.
      createAuth(handle.db, { onSessionEnded: (session) => endRealtimeSession(getPublisher(), session.id) }),
  );
} finally {
  await handle.close();
}
