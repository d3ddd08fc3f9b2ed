/**
 * `npm run build` (after `next build`): our realtime server as one ES module,
 * `.next/realtime/server.mjs`, which `npm start` runs. Under tsx the server took 1.6–3.8 s to
 * answer after a restart — the loader transpiling and resolving ~180 files — and every second of
 * that is a second 1,000 clients wait to reconnect (issue 11, reconnect storm); the bundle loads
 * in about half that. Packages are bundled too: resolving zod's and ioredis's many files was most
 * of what remained. `npm run realtime` and `npm run dev` keep running the sources.
 */
import path from "node:path";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
/** Where the bundle lands: inside `.next`, so `next build` clears a stale one and git ignores it. */
export const REALTIME_BUNDLE = path.join(root, ".next", "realtime", "server.mjs");

export async function buildRealtime(outfile = REALTIME_BUNDLE) {
  await build({
    entryPoints: [path.join(root, "server/realtime/main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // ws loads these native speed-ups only if installed; they stay outside the bundle.
    external: ["bufferutil", "utf-8-validate"],
    // Bundled CommonJS packages (ioredis) call require(); an ES module has none of its own.
    banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
    logLevel: "warning",
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildRealtime();
  console.log(`[build] realtime server bundled: ${path.relative(root, REALTIME_BUNDLE)}`);
}
