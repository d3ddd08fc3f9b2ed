import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepPhoto } from "@/app/_chat/photo-store";
import { sendPhoto } from "@/app/_chat/photo-upload";
import { sendLimitWaitMs } from "@/app/_chat/slow-down";
import { isFinalError } from "@/app/_trpc/query-client";
import type { DbHandle } from "@/db/client";
import type { HttpDeps } from "@/server/http/deps";
import { uploadPhoto } from "@/server/http/photo-api";
import { openTestDb } from "../support/db";
import { APP, httpTestDeps, signInCookie } from "../support/http";
import { smallPng, textFile } from "../support/photos";

/**
 * The browser's side of an upload against the real route handler: each answer becomes what the
 * outbox already acts on (stored row; retry; wait; failed with the server's sentence; signed out).
 */
describe("sending a queued photo from the browser's outbox", () => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let cookie: string | null = null;
  const realFetch = globalThis.fetch;
  beforeAll(async () => {
    handle = await openTestDb("pglite");
    deps = { ...(await httpTestDeps(handle)), sendLimit: { burst: 2, perSecond: 0.01 } };
    const player = await signInCookie(deps, "player29@floorline.test");
    // What the browser's fetch would reach: the route, with the page's origin and cookie.
    globalThis.fetch = (async (url: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      headers.set("origin", APP);
      if (cookie) headers.set("cookie", cookie);
      return uploadPhoto(deps, new Request(`${APP}${url}`, { ...init, headers, duplex: "half" } as RequestInit));
    }) as typeof fetch;
    cookie = player;
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await handle?.close();
  });

  const queued = async (bytes: Buffer, text = "") => {
    const id = randomUUID();
    await keepPhoto(id, new Blob([new Uint8Array(bytes)], { type: "image/png" }));
    return { id, text };
  };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (err: unknown) => err,
    );

  it("stored: the row as the thread cache keeps it (dates as Dates, the photo's shape)", async () => {
    const { message, request } = await sendPhoto(await queued(await smallPng(), "receipt"));
    expect(message.timestamp).toBeInstanceOf(Date);
    expect(request.createdAt).toBeInstanceOf(Date);
    expect(message).toMatchObject({ messageText: "receipt", photo: { type: "image/png" } });
  });

  it("not an image: a final refusal carrying the server's sentence", async () => {
    const err = await failure(sendPhoto(await queued(textFile)));
    expect(isFinalError(err)).toBe(true);
    expect((err as Error).message).toBe("Only JPEG, PNG or WebP photos can be sent");
  });

  it("the photo is gone from the device: a final refusal saying so", async () => {
    const err = await failure(sendPhoto({ id: randomUUID(), text: "" }));
    expect(isFinalError(err)).toBe(true);
    expect((err as Error).message).toBe("This photo is no longer on this device: attach it again");
  });

  it("over the send limit: not final, and the outbox waits as long as the server says", async () => {
    await sendPhoto(await queued(await smallPng()));
    const err = await failure(sendPhoto(await queued(await smallPng())));
    expect(isFinalError(err)).toBe(false);
    expect(sendLimitWaitMs(err)).toBeGreaterThan(0);
  });

  it("signed out: the code the outbox keeps the photo for until the user signs in", async () => {
    cookie = null;
    const err = await failure(sendPhoto(await queued(await smallPng())));
    expect((err as { data?: { code?: string } }).data?.code).toBe("UNAUTHORIZED");
  });
});
