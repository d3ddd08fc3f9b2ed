import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { preparedOnce } from "@/db/prepared";
import { session, user } from "@/db/schema";

/**
 * A session and its user read by the session's token in one prepared statement: what
 * session-cache.ts re-reads to renew a session it already holds, instead of better-auth's
 * `getSession` (issue 11: 0.35–0.58 ms of CPU against 2.9–5.0 ms, bench/README.md "Paced sends").
 * The columns are the ones better-auth's getSession answers with — its session and user fields
 * and auth.ts's additionalFields (`role`, `mustChangePassword`), never `deactivatedAt` — so the
 * answer can replace the cached one as it is; tests/security/session-cache.test.ts compares the
 * two, on both databases. A field added to better-auth's user or session must be added here.
 */
export async function sessionByToken(db: Db, token: string) {
  const [row] = await sessionByTokenQuery(db).execute({ token });
  return row ?? null;
}

const sessionByTokenQuery = preparedOnce((db: Db) =>
  db
    .select({
      session: {
        id: session.id,
        expiresAt: session.expiresAt,
        token: session.token,
        createdAt: session.createdAt,
        updatedAt: session.updatedAt,
        ipAddress: session.ipAddress,
        userAgent: session.userAgent,
        userId: session.userId,
      },
      user: {
        id: user.id,
        name: user.name,
        email: user.email,
        emailVerified: user.emailVerified,
        image: user.image,
        createdAt: user.createdAt,
        updatedAt: user.updatedAt,
        role: user.role,
        mustChangePassword: user.mustChangePassword,
      },
    })
    .from(session)
    .innerJoin(user, eq(user.id, session.userId))
    .where(eq(session.token, sql.placeholder("token")))
    .prepare("session_by_token"),
);
