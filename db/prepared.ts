import type { Db } from "./client";

/**
 * A statement that is the same on every call, built by drizzle and prepared by Postgres once per
 * database handle instead of on each call: the reads every portal makes on each load and
 * reconnect (issue 11). Give the statement placeholders only where a generic plan stays good —
 * Postgres may plan a prepared statement once for any parameter values.
 */
export function preparedOnce<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let statement = built.get(db);
    if (!statement) {
      statement = build(db);
      built.set(db, statement);
    }
    return statement;
  };
}
