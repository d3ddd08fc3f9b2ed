/**
 * `npx tsx bench/photos.ts [runs]`: what one photo costs the web process — `preparePhoto`
 * (sniff, header check, sharp's decode + re-encode + thumbnail) on the images people send: a
 * 12 MP phone photo (4032 × 3024 JPEG) and a phone screenshot (1170 × 2532 PNG). The work runs on
 * libuv's thread pool, not the event loop; this is the wall time and the stored bytes.
 */
import { performance } from "node:perf_hooks";
import sharp from "sharp";
import { preparePhoto } from "@/server/chat/photos";

const runs = Number(process.argv[2] ?? 10);

/** Smooth gradients with sensor-like grain: compresses like a camera photo (a few MB at 12 MP). */
async function photoLike(width: number, height: number) {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const grain = ((x * 73856093) ^ (y * 19349663)) & 31;
      raw[i] = ((x * 200) / width + grain) & 255;
      raw[i + 1] = ((y * 200) / height + grain) & 255;
      raw[i + 2] = (((x + y) * 100) / (width + height) + 64 + grain) & 255;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Flat panels and thin lines of text-like marks: compresses like an app's screenshot. */
async function screenshotLike(width: number, height: number) {
  const raw = Buffer.alloc(width * height * 3, 245);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const band = Math.floor(y / 160) % 3;
      const mark = y % 40 < 22 && y % 40 > 8 && (x * 7 + y) % 13 < 6 && x > 60 && x < width - 60;
      const value = mark ? 30 : band === 0 ? 235 : band === 1 ? 250 : 220;
      raw[i] = value;
      raw[i + 1] = mark ? 30 : value - (band === 0 ? 40 : 0);
      raw[i + 2] = mark ? 60 : value;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

const cases = [
  { name: "phone photo 4032×3024 JPEG", bytes: await photoLike(4032, 3024) },
  { name: "screenshot 1170×2532 PNG", bytes: await screenshotLike(1170, 2532) },
];

const rows = [];
for (const c of cases) {
  const ms: number[] = [];
  let stored = { image: 0, thumb: 0 };
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const photo = await preparePhoto(c.bytes);
    ms.push(performance.now() - start);
    stored = { image: photo.image.length, thumb: photo.thumb.length };
  }
  ms.sort((a, b) => a - b);
  rows.push({
    image: c.name,
    uploadKB: Math.round(c.bytes.length / 1024),
    storedKB: Math.round(stored.image / 1024),
    thumbKB: +(stored.thumb / 1024).toFixed(1),
    p50ms: Math.round(ms[Math.floor(ms.length / 2)] ?? 0),
    maxMs: Math.round(ms.at(-1) ?? 0),
    runs,
  });
}
console.table(rows);
