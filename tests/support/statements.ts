import pg from "pg";

/**
 * Statements node-postgres sends while `fn` runs (BEGIN and COMMIT included): round trips, counted.
 * A prepared statement is written `name: text`, so its name can be matched too.
 */
export async function statementsOf(fn: () => Promise<unknown>) {
  const original = pg.Client.prototype.query;
  const seen: string[] = [];
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { name?: string; text?: string };
    if (typeof first === "string") seen.push(first);
    else seen.push(first?.name ? `${first.name}: ${first.text}` : (first?.text ?? "?"));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return seen;
}

/**
 * Statements other than the session check's read (server/session-row.ts session_by_token). A held
 * session is read again in the background once its 5 s window nears its end (session-cache.ts):
 * on a loaded machine that re-read can fall inside a request counted long after sign-in. That
 * the check is held at all is tests/security/session-cache.test.ts's to show.
 */
export function withoutSessionReads(statements: string[]) {
  return statements.filter((s) => !s.startsWith("session_by_token: "));
}
