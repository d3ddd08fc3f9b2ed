/**
 * A statement that is the same on every call, built by drizzle and prepared by Postgres once per
 * database handle instead of on each call: the reads every portal makes on each load and
 * reconnect, the send and the reply (issue 11). Give the statement placeholders only where a
 * generic plan stays good — Postgres may plan a prepared statement once for any parameter values.
 *
 * Named statements are safe here because each connection is our own: node-postgres's Pool
 * (db/client.ts) holds direct connections to Postgres, and the driver remembers which of them has
 * parsed which name, parsing it on a connection's first use. A transaction-mode pooler (pgbouncer
 * before 1.21, or without max_prepared_statements) between the two would send the next call to a
 * server connection that never parsed it; put one there only in session mode. A name stands for one
 * text on a connection (the driver refuses another), so each statement has its own. On PGlite
 * drizzle runs the same statement unnamed. A transaction (`Tx`) is its own handle: a statement
 * built for it runs on the transaction's connection, where the name, once parsed, is reused too.
 */
export function preparedOnce<D extends object, T>(build: (db: D) => T): (db: D) => T {
  const built = new WeakMap<D, T>();
  return (db) => {
    let statement = built.get(db);
    if (!statement) {
      statement = build(db);
      built.set(db, statement);
    }
    return statement;
  };
}
