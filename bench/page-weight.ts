/**
 * `tsx bench/page-weight.ts [baseURL]`: the JavaScript a page makes a phone download, gzipped.
 * Signs in as the demo player, reads the <script src> list of each page's HTML (what the browser
 * fetches before the page works; e2e/page-weight.spec.ts counts what Chromium really loads) and gzips each file at level 9 as a server would.
 * Run against `npm start` of the current build.
 */
import { gzipSync } from "node:zlib";

const base = process.argv[2] ?? "http://localhost:3000";

async function signInCookie(email: string) {
  const res = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email, password: "floorline-demo" }),
  });
  if (!res.ok) throw new Error(`sign-in ${res.status}`);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
}

async function weigh(path: string, cookie = "") {
  const html = await (await fetch(`${base}${path}`, { headers: { cookie } })).text();
  // `noModule` scripts (Next's legacy polyfills, ~39 KB gzipped) are skipped by every browser
  // that runs modules, phones included: they are not part of what the page costs.
  const tags = [...html.matchAll(/<script[^>]+src="([^"]+)"[^>]*>/g)].filter((m) => !/\bnoModule\b/i.test(m[0]));
  const srcs = [...new Set(tags.map((m) => m[1] as string))];
  let raw = 0;
  let gzipped = 0;
  for (const src of srcs) {
    const body = Buffer.from(await (await fetch(new URL(src, base))).arrayBuffer());
    raw += body.length;
    gzipped += gzipSync(body, { level: 9 }).length;
  }
  return { path, scripts: srcs.length, rawKB: +(raw / 1024).toFixed(1), gzipKB: +(gzipped / 1024).toFixed(1) };
}

const cookie = await signInCookie("player29@floorline.test");
console.table([await weigh("/sign-in"), await weigh("/player", cookie)]);
