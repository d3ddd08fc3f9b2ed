import { randomUUID } from "node:crypto";
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { APP } from "./http";

/** Real image files for the photo tests, made here so no fixture binaries live in the repo. */

/** A photo-like JPEG (noise compresses badly, so truncating it cuts real image data). */
export async function noiseJpeg(
  opts: { width?: number; height?: number; exif?: Record<string, Record<string, string>> } = {},
) {
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919 + (i >> 5) * 104729) % 251;
  const image = sharp(raw, { raw: { width, height, channels: 3 } });
  return (opts.exif ? image.withExif(opts.exif) : image).jpeg({ quality: 90 }).toBuffer();
}

export const smallPng = (width = 200, height = 100) =>
  sharp({ create: { width, height, channels: 3, background: { r: 20, g: 120, b: 200 } } })
    .png()
    .toBuffer();

export const smallWebp = () =>
  sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 200, g: 20, b: 20 } } })
    .webp()
    .toBuffer();

export const smallGif = () =>
  sharp({ create: { width: 10, height: 10, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .gif()
    .toBuffer();

export const svgWithScript = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>alert(document.cookie)</script><rect width="100" height="100"/></svg>',
);

export const textFile = Buffer.from("Not a photo at all, just a note saved as receipt.jpg\n");

/**
 * A decompression bomb: a valid PNG a few hundred bytes long whose header claims
 * 100,000 × 100,000 pixels (30 GB decoded), its rows of zeros deflated to almost nothing.
 */
export function pngBomb(side = 100_000) {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  // The first rows only: enough for a decoder to start, a full image is never needed.
  const rows = deflateSync(Buffer.alloc((side + 1) * 16));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", rows),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function crc32(bytes: Buffer) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** POST /api/photos as the browser sends it: the bytes as the body, the fields in the query. */
export function photoUpload(
  bytes: Uint8Array,
  opts: { cookie?: string | null; query?: Record<string, string>; contentType?: string; origin?: string } = {},
) {
  const headers: Record<string, string> = {
    origin: opts.origin ?? APP,
    "content-type": opts.contentType ?? "application/octet-stream",
  };
  if (opts.cookie) headers.cookie = opts.cookie;
  const query = new URLSearchParams({ id: randomUUID(), ...opts.query });
  return new Request(`${APP}/api/photos?${query}`, { method: "POST", headers, body: new Uint8Array(bytes) });
}

/** GET /api/photos/:id */
export function photoGet(id: string, opts: { cookie?: string | null; size?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  return new Request(`${APP}/api/photos/${id}${opts.size ? `?size=${opts.size}` : ""}`, { headers });
}
