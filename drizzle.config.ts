import { defineConfig } from "drizzle-kit";

// `DATABASE_URL` set → that Postgres; unset → the embedded PGlite directory the app uses.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema.ts",
  out: "./db/migrations",
  ...(process.env.DATABASE_URL
    ? { dbCredentials: { url: process.env.DATABASE_URL } }
    : { driver: "pglite", dbCredentials: { url: process.env.PGLITE_DATA_DIR ?? ".data/pglite" } }),
});
