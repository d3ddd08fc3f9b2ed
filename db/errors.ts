/**
 * The unique constraint a failed statement broke, or null. Drizzle wraps the driver's error
 * (node-postgres and PGlite both carry SQLSTATE `code` and `constraint`), so the chain is walked.
 * Check-then-insert is not enough under concurrency: the index decides, and this turns its
 * refusal into a conflict the caller can name.
 */
export function uniqueViolation(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, constraint } = e as { code?: unknown; constraint?: unknown };
    if (code === "23505") return typeof constraint === "string" ? constraint : "";
  }
  return null;
}
