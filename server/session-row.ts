import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { preparedOnce } from "@/db/prepared";
import { roles, session, user } from "@/db/schema";

/**
 * A session and its user read by the session's token in one prepared statement: what
 * session-cache.ts re-reads to renew a session it already holds, instead of better-auth's
 * `getSession` (issue 11: 0.35–0.58 ms of CPU against 2.9–5.0 ms, bench/README.md "Paced sends").
 * The columns are the ones better-auth's getSession answers with — its session and user fields
 * and auth.ts's additionalFields (`role`, `mustChangePassword`), never `deactivatedAt` — so the
 * answer can replace the cached one as it is; tests/security/session-cache.test.ts compares the
 * two, on both databases. A field added to better-auth's user or session must be added here and
 * to sessionRecord below.
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

/** A session and its user as the session check uses them: sessionByToken's row, dates as Date. */
export type SessionRow = NonNullable<Awaited<ReturnType<typeof sessionByToken>>>;

/** A date as a Date, or a string that is one (JSON's); never an Invalid Date. */
const date = z.union([z.date(), z.string()]).pipe(z.coerce.date());
/** A nullable column: a record written without it reads as the database's null. */
const nullableText = z
  .string()
  .nullish()
  .transform((value) => value ?? null);

/**
 * sessionByToken's row, for a session read from elsewhere than its statement: better-auth's
 * findSession over its Redis record (auth.ts), whose JSON is whatever Redis holds — better-auth
 * makes Dates of its five dates (an Invalid Date of a string that is not one) and checks nothing
 * else. Typed against SessionRow, so the two reads cannot drift apart; keys that row does not
 * have are dropped.
 */
const sessionRecord: z.ZodType<SessionRow, unknown> = z.object({
  session: z.object({
    id: z.string(),
    expiresAt: date,
    token: z.string(),
    createdAt: date,
    updatedAt: date,
    ipAddress: nullableText,
    userAgent: nullableText,
    userId: z.string(),
  }),
  user: z.object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    emailVerified: z.boolean(),
    image: nullableText,
    createdAt: date,
    updatedAt: date,
    role: z.enum(roles),
    mustChangePassword: z.boolean(),
  }),
});

/**
 * A session read from Redis (or null: none) as sessionByToken's row, or null for a record that is
 * not one — no session, as for a record that is not JSON — logged by which fields failed, never
 * their values (the token is one).
 */
export function sessionFromRecord(found: unknown): SessionRow | null {
  if (found === null || found === undefined) return null;
  const parsed = sessionRecord.safeParse(found);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(record)"}: ${issue.code}`);
  console.error(`[auth] a session record that does not parse was refused as no session (${fields.join("; ")})`);
  return null;
}
