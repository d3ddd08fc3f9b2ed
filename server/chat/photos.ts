import { eq } from "drizzle-orm";
import sharp from "sharp";
import type { Db } from "@/db/client";
import { chatPhotos } from "@/db/schema";
import { MAX_PHOTO_BYTES } from "@/protocol/limits";
import { ChatError } from "./errors";

/**
 * Wider or taller photos are scaled down to this. High enough that a phone's screenshot (the usual
 * payment proof; 1290 × 2796 on the largest iPhone) is stored at its own size: scaling one would
 * blur its text and, as PNG, store it many times larger than it came.
 */
export const MAX_PHOTO_EDGE = 2800;
/** The thumbnail shown in the thread. */
export const THUMB_EDGE = 320;
/**
 * Decoded size refused before decoding: a few KB of PNG can claim 100,000 × 100,000 pixels and
 * make the decoder hold gigabytes (a decompression bomb). 50 MP is above any phone camera's default.
 */
export const MAX_PHOTO_PIXELS = 50_000_000;

type Format = "jpeg" | "png" | "webp";
const CONTENT_TYPE: Record<Format, string> = { jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };

export type PreparedPhoto = {
  contentType: string;
  image: Buffer;
  width: number;
  height: number;
  thumbContentType: string;
  thumb: Buffer;
  thumbWidth: number;
  thumbHeight: number;
};

/**
 * The type by the first bytes, never by name or Content-Type: a text file called `.jpg` or an
 * SVG (script inside an "image") is refused before any decoder sees it, so only the JPEG, PNG
 * and WebP decoders ever run on what a client sent.
 */
export function sniffPhotoFormat(bytes: Uint8Array): Format | null {
  const at = (offset: number, ...sig: number[]) => sig.every((b, i) => bytes[offset + i] === b);
  if (at(0, 0xff, 0xd8, 0xff)) return "jpeg";
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "webp"; // RIFF....WEBP
  return null;
}

/**
 * Checks an upload and re-encodes it: the stored image is what sharp wrote (bounded size, the
 * camera's rotation applied, no EXIF / GPS / comments — sharp keeps no metadata unless asked),
 * never the bytes as sent, plus a WebP thumbnail. Refusals are ChatErrors with a sentence.
 */
export async function preparePhoto(bytes: Buffer): Promise<PreparedPhoto> {
  if (bytes.length === 0) throw new ChatError("BAD_REQUEST", "The photo is empty");
  if (bytes.length > MAX_PHOTO_BYTES) {
    throw new ChatError("PAYLOAD_TOO_LARGE", "The photo is too large: at most 5 MB");
  }
  const format = sniffPhotoFormat(bytes);
  if (!format) throw new ChatError("UNSUPPORTED_MEDIA_TYPE", "Only JPEG, PNG or WebP photos can be sent");

  const options = { limitInputPixels: MAX_PHOTO_PIXELS, failOn: "truncated" } as const;
  // The header only, so without the pixel limit: a bomb is refused below with its own sentence.
  const meta = await sharp(bytes, { ...options, limitInputPixels: false })
    .metadata()
    .catch(() => {
      throw unreadable();
    });
  if (meta.format !== format || !meta.width || !meta.height) throw unreadable();
  if (meta.width * meta.height > MAX_PHOTO_PIXELS) {
    throw new ChatError("PAYLOAD_TOO_LARGE", "The photo has too many pixels: at most 50 megapixels");
  }

  try {
    const full = await sharp(bytes, options)
      .timeout({ seconds: 20 })
      .rotate()
      .resize({ width: MAX_PHOTO_EDGE, height: MAX_PHOTO_EDGE, fit: "inside", withoutEnlargement: true })
      .toFormat(format, format === "png" ? { compressionLevel: 7 } : { quality: 82 })
      .toBuffer({ resolveWithObject: true });
    const thumb = await sharp(full.data)
      .resize({ width: THUMB_EDGE, height: THUMB_EDGE, fit: "inside", withoutEnlargement: true })
      .webp({ quality: 70 })
      .toBuffer({ resolveWithObject: true });
    return {
      contentType: CONTENT_TYPE[format],
      image: full.data,
      width: full.info.width,
      height: full.info.height,
      thumbContentType: "image/webp",
      thumb: thumb.data,
      thumbWidth: thumb.info.width,
      thumbHeight: thumb.info.height,
    };
  } catch {
    // A truncated or corrupt file fails while decoding; the decoder's words stay in here.
    throw unreadable();
  }
}

const unreadable = () =>
  new ChatError("BAD_REQUEST", "This photo could not be read: the file is damaged or not a complete image");

/**
 * A stored photo's bytes and whose thread it is in; null when there is none. The caller decides
 * who may see it (server/chat/access.ts, like the thread itself).
 */
export async function photoBytes(db: Db, input: { messageId: string; size: "full" | "thumb" }) {
  const [row] = await db
    .select({
      playerId: chatPhotos.playerId,
      contentType: input.size === "thumb" ? chatPhotos.thumbContentType : chatPhotos.contentType,
      bytes: input.size === "thumb" ? chatPhotos.thumb : chatPhotos.image,
    })
    .from(chatPhotos)
    .where(eq(chatPhotos.messageId, input.messageId));
  return row ?? null;
}
