import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatEvents, chatMessages, chatPhotos } from "@/db/schema";
import { MAX_PHOTO_BYTES } from "@/protocol/limits";
import type { HttpDeps } from "@/server/http/deps";
import { servePhoto, uploadPhoto } from "@/server/http/photo-api";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, signInCookie } from "../support/http";
import {
  noiseJpeg,
  photoGet,
  photoUpload,
  pngBomb,
  smallGif,
  smallPng,
  smallWebp,
  svgWithScript,
  textFile,
} from "../support/photos";

describe.each(testDbKinds)("photos on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  const cookie: Record<string, string> = {};
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    cookie.p29 = await signInCookie(deps, "player29@floorline.test");
    cookie.p30 = await signInCookie(deps, "player30@floorline.test");
    cookie.staff = await signInCookie(deps, "asha@floorline.test");
  });
  afterAll(async () => {
    await handle?.close();
  });

  const upload = async (bytes: Uint8Array, opts: Parameters<typeof photoUpload>[1] = {}) => {
    const res = await uploadPhoto(deps, photoUpload(bytes, { cookie: cookie.p29, ...opts }));
    return { status: res.status, body: await res.json() };
  };
  const photos = async () => (await handle.db.select({ n: count() }).from(chatPhotos))[0]?.n ?? 0;

  describe("refuses anything that is not a JPEG, PNG or WebP photo, with a sentence and nothing stored", () => {
    it.each([
      ["a text file named .jpg", () => textFile, 415, "Only JPEG, PNG or WebP photos can be sent"],
      ["an SVG with a script", () => svgWithScript, 415, "Only JPEG, PNG or WebP photos can be sent"],
      ["a GIF", smallGif, 415, "Only JPEG, PNG or WebP photos can be sent"],
      [
        "a truncated JPEG",
        async () => (await noiseJpeg()).subarray(0, 20_000),
        400,
        "This photo could not be read: the file is damaged or not a complete image",
      ],
      ["a PNG claiming 100,000 × 100,000 pixels", pngBomb, 413, "The photo has too many pixels: at most 50 megapixels"],
      ["an empty body", () => Buffer.alloc(0), 400, "The photo is empty"],
    ])("%s", async (_name, make, status, message) => {
      const before = await photos();
      const res = await upload(await make());
      expect(res).toMatchObject({ status, body: { error: { message } } });
      expect(await photos()).toBe(before);
    });

    it("5 MB + 1 byte (a JPEG's first bytes, then padding): 413, said before it is read", async () => {
      const big = Buffer.alloc(MAX_PHOTO_BYTES + 1);
      (await noiseJpeg()).copy(big);
      expect(await upload(big)).toMatchObject({
        status: 413,
        body: { error: { message: "The photo is too large: at most 5 MB" } },
      });
    });

    it("a form post or a JSON body is refused (415), and so is a cross-site upload (403)", async () => {
      const jpeg = await noiseJpeg();
      expect((await upload(jpeg, { contentType: "multipart/form-data; boundary=x" })).status).toBe(415);
      expect((await upload(jpeg, { contentType: "image/jpeg" })).status).toBe(415);
      expect((await upload(jpeg, { origin: "http://evil.example" })).status).toBe(403);
    });

    it("a bad id or an unknown field is a 400 naming it", async () => {
      expect(await upload(await smallPng(), { query: { id: "not-a-uuid" } })).toMatchObject({
        status: 400,
        body: { error: { message: "Message id must be a UUID" } },
      });
      expect((await upload(await smallPng(), { query: { colour: "red" } })).status).toBe(400);
    });
  });

  it("a JPEG is stored re-encoded: EXIF and GPS gone, at most 2800 px, with a WebP thumbnail", async () => {
    const original = await noiseJpeg({
      width: 3200,
      height: 1600,
      exif: {
        IFD0: { ImageDescription: "secret-description", Make: "SpyCam" },
        IFD3: { GPSLatitudeRef: "N", GPSLatitude: "19/1 4/1 0/1" },
      },
    });
    expect((await sharp(original).metadata()).exif).toBeDefined();

    const res = await upload(original, { query: { text: "Payment receipt" } });
    expect(res.status).toBe(201);
    const message = res.body.message;
    expect(message).toMatchObject({
      messageText: "Payment receipt",
      sender: "player",
      photo: { type: "image/jpeg", width: 2800, height: 1400, thumbWidth: 320, thumbHeight: 160 },
    });

    const [stored] = await handle.db.select().from(chatPhotos).where(eq(chatPhotos.messageId, message.id));
    if (!stored) throw new Error("no photo row");
    const meta = await sharp(stored.image).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 2800, height: 1400 });
    expect(meta.exif).toBeUndefined();
    expect(stored.image.includes("secret-description")).toBe(false);
    expect(stored.image.includes("SpyCam")).toBe(false);
    expect(await sharp(stored.thumb).metadata()).toMatchObject({ format: "webp", width: 320, height: 160 });
  });

  it("PNG and WebP keep their type; without a description the text is 'Photo'", async () => {
    const png = await upload(await smallPng());
    expect(png.body.message).toMatchObject({ messageText: "Photo", photo: { type: "image/png", width: 200 } });
    const webp = await upload(await smallWebp(), { query: { text: "   " } });
    expect(webp.body.message).toMatchObject({ messageText: "Photo", photo: { type: "image/webp", width: 120 } });
  });

  it("a retried upload is stored once, and is a message in the thread's seq order", async () => {
    const id = randomUUID();
    const jpeg = await noiseJpeg();
    const first = await upload(jpeg, { query: { id } });
    const again = await upload(jpeg, { query: { id } });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.message).toMatchObject({ id, seq: first.body.message.seq });
    const rows = await handle.db.select({ n: count() }).from(chatPhotos).where(eq(chatPhotos.messageId, id));
    expect(rows[0]?.n).toBe(1);
    const messages = await handle.db.select({ n: count() }).from(chatMessages).where(eq(chatMessages.id, id));
    expect(messages[0]?.n).toBe(1);
  });

  describe("who may see a photo", () => {
    let id: string;
    beforeAll(async () => {
      id = (await upload(await smallPng(), { query: { text: "my screenshot" } })).body.message.id;
    });
    const get = (who: string | null, size?: string) =>
      servePhoto(deps, photoGet(id, { cookie: who ? cookie[who] : null, size }), { id });

    it("its player and staff get it, as an image that can never be a page", async () => {
      for (const who of ["p29", "staff"]) {
        const res = await get(who);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("image/png");
        expect(res.headers.get("x-content-type-options")).toBe("nosniff");
        expect(res.headers.get("content-security-policy")).toContain("sandbox");
        expect(res.headers.get("cache-control")).toMatch(/^private/);
        expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format).toBe("png");
      }
      const thumb = await get("p29", "thumb");
      expect(thumb.headers.get("content-type")).toBe("image/webp");
    });

    it("another player is refused (403), anonymous too (401), and neither gets a byte", async () => {
      const other = await get("p30");
      expect(other.status).toBe(403);
      expect(other.headers.get("content-type")).toContain("application/json");
      expect((await get(null)).status).toBe(401);
      expect((await get("p30", "thumb")).status).toBe(403);
    });

    it("an unknown id is 404, a malformed one or size 400", async () => {
      const unknown = randomUUID();
      expect((await servePhoto(deps, photoGet(unknown, { cookie: cookie.p29 }), { id: unknown })).status).toBe(404);
      expect((await servePhoto(deps, photoGet("x", { cookie: cookie.p29 }), { id: "x" })).status).toBe(400);
      expect((await get("p29", "huge")).status).toBe(400);
    });
  });

  describe("staff", () => {
    it("send a photo into a waiting chat by requestId, which takes it; the player sees it", async () => {
      const first = await upload(await smallPng(), { cookie: cookie.p30 });
      const requestId = first.body.request.id;
      expect(first.body.request.status).toBe("waiting");
      const res = await upload(await noiseJpeg(), { cookie: cookie.staff, query: { requestId, text: "Your receipt" } });
      expect(res.status).toBe(201);
      expect(res.body.message).toMatchObject({ sender: "staff", playerId: 30, photo: { type: "image/jpeg" } });
      expect(res.body.request).toMatchObject({ id: requestId, status: "in_progress" });
      const taken = await handle.db.select().from(chatEvents).where(eq(chatEvents.requestId, requestId));
      expect(taken.map((e) => [e.type, e.actorName])).toEqual([
        ["created", expect.any(String)],
        ["claimed", "Asha (floor)"],
      ]);
      const seen = await servePhoto(deps, photoGet(res.body.message.id, { cookie: cookie.p30 }), {
        id: res.body.message.id,
      });
      expect(seen.status).toBe(200);
      expect((await upload(await smallPng(), { cookie: cookie.staff })).status).toBe(400); // no requestId
    });
  });

  it("the send limit covers photos: over it, 429 with the wait before anything is decoded", async () => {
    const limited = { ...deps, sendLimit: { burst: 1, perSecond: 0.01 } };
    const p31 = await signInCookie(deps, "player31@floorline.test");
    const send = async () =>
      uploadPhoto(limited, photoUpload(await smallPng(), { cookie: p31 })).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    expect((await send()).status).toBe(201);
    const over = await send();
    expect(over.status).toBe(429);
    expect(over.body.error.message).toMatch(/^Slow down — sending again in \d+ s$/);
  });
});
