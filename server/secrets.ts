import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { realtimeShared } from "./settings";

/**
 * The two signing secrets. A real deployment (DATABASE_URL set) must bring its own, strong and
 * not the documented defaults: with the public default PUSHER_SECRET anyone could sign a
 * staff-channel subscription. The embedded zero-config mode generates them once and keeps them
 * beside its data, so `npm start` still needs no settings and no two installs share a secret.
 */
export const DEFAULT_AUTH_SECRET = "floorline-dev-secret-change-me-in-production-0123456789";
const RULES = {
  BETTER_AUTH_SECRET: { min: 32, fallback: DEFAULT_AUTH_SECRET },
  // Hosted Pusher's own secrets are 20 characters.
  PUSHER_SECRET: { min: 20, fallback: realtimeShared.PUSHER_SECRET.default },
} as const;
type SecretName = keyof typeof RULES;
const NAMES = Object.keys(RULES) as SecretName[];

/** With DATABASE_URL set: one line per secret that is missing, a default, or short. */
export function deploymentSecretProblems(env: Record<string, string | undefined>): string[] {
  if (!env.DATABASE_URL?.trim()) return [];
  return NAMES.flatMap((name) => {
    const value = env[name]?.trim();
    const { min, fallback } = RULES[name];
    if (!value) return [`${name}: must be set when DATABASE_URL is set (at least ${min} random characters)`];
    if (value === fallback) return [`${name}: is the public default; set a secret of your own`];
    if (value.length < min) return [`${name}: must be at least ${min} characters`];
    return [];
  });
}

/** Where the embedded mode keeps its secrets: beside the PGlite directory, like its lock file. */
export function embeddedSecretsFile(pgliteDataDir: string) {
  const dir = path.resolve(pgliteDataDir);
  return path.join(path.dirname(dir), `${path.basename(dir)}.secrets.json`);
}

/**
 * Embedded mode: the secrets from `file`, generating (and keeping, mode 0600) any not yet there.
 * A secret set in env wins and is not written down.
 */
export function loadEmbeddedSecrets(env: Record<string, string | undefined>, file: string): Record<SecretName, string> {
  let kept: Partial<Record<SecretName, string>> = {};
  try {
    kept = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`Cannot read ${file}: ${String(err)}`);
  }
  const missing = NAMES.filter((name) => !env[name]?.trim() && typeof kept[name] !== "string");
  if (missing.length > 0) {
    for (const name of missing) kept[name] = randomBytes(32).toString("base64url");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
  }
  fs.chmodSync(file, 0o600);
  return Object.fromEntries(NAMES.map((name) => [name, env[name]?.trim() || (kept[name] as string)])) as Record<
    SecretName,
    string
  >;
}

/**
 * For the supervisor (`npm start` / `npm run dev`), before it starts the web app and the
 * realtime server: the env both children get. Throws one line per problem in a deployment.
 */
export function secretsForChildren(env: Record<string, string | undefined>): Record<string, string> {
  const problems = deploymentSecretProblems(env);
  if (problems.length > 0) throw new Error(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  if (env.DATABASE_URL?.trim()) return {};
  return loadEmbeddedSecrets(env, embeddedSecretsFile(env.PGLITE_DATA_DIR?.trim() || ".data/pglite"));
}
