import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { plainError } from "@/app/_trpc/plain-error";
import type { AppRouter } from "@/server/trpc/root";

/** A refusal as the tRPC client receives it from our server. */
const refused = (code: string, httpStatus: number, message: string) =>
  TRPCClientError.from<AppRouter>({ error: { code: -32600, message, data: { code, httpStatus } } });

const CODES = /\b(BAD_REQUEST|UNAUTHORIZED|FORBIDDEN|NOT_FOUND|CONFLICT|TOO_MANY_REQUESTS|INTERNAL_SERVER_ERROR)\b/;

describe("errors as people read them", () => {
  it("a request that never reached the server says so, not the browser's 'Failed to fetch'", () => {
    const text = plainError(TRPCClientError.from(new TypeError("Failed to fetch")));
    expect(text).toBe("Could not reach Floorline. Check the connection and try again.");
  });

  it("keeps the server's own sentences: conflicts, limits, input refusals and fault references", () => {
    expect(plainError(refused("CONFLICT", 409, "Another staff member already took this chat"))).toBe(
      "Another staff member already took this chat",
    );
    expect(plainError(refused("TOO_MANY_REQUESTS", 429, "Slow down: try again in 5 s"))).toBe(
      "Slow down: try again in 5 s",
    );
    expect(plainError(refused("INTERNAL_SERVER_ERROR", 500, "Something went wrong on our side (reference ab12)"))).toBe(
      "Something went wrong on our side (reference ab12)",
    );
  });

  it("keeps a photo's refusals, which the upload route writes for people", () => {
    expect(plainError(refused("UNSUPPORTED_MEDIA_TYPE", 415, "Only JPEG, PNG or WebP photos can be sent"))).toBe(
      "Only JPEG, PNG or WebP photos can be sent",
    );
    expect(plainError(refused("PAYLOAD_TOO_LARGE", 413, "Photos are at most 5 MB"))).toBe("Photos are at most 5 MB");
  });

  it("never shows a code name, a bare status or an empty string", () => {
    const cases = [
      refused("UNAUTHORIZED", 401, "UNAUTHORIZED"),
      refused("FORBIDDEN", 403, "FORBIDDEN"),
      refused("NOT_FOUND", 404, "NOT_FOUND"),
      refused("CONFLICT", 409, ""),
      new Error(""),
      "weird",
      undefined,
    ];
    for (const err of cases) {
      const text = plainError(err);
      expect(text).not.toMatch(CODES);
      expect(text.length).toBeGreaterThan(10);
    }
    expect(plainError(refused("UNAUTHORIZED", 401, "UNAUTHORIZED"))).toBe(
      "You are signed out. Sign in again to carry on.",
    );
    expect(plainError(refused("FORBIDDEN", 403, "FORBIDDEN"))).toBe("You are not allowed to do that.");
  });

  it("a developer's input message (an id that is not a UUID) becomes the sentence the caller gives", () => {
    const text = plainError(refused("BAD_REQUEST", 400, "Request id must be a UUID"), {
      notFound: "This chat could not be found. The link may be broken.",
    });
    expect(text).toBe("This chat could not be found. The link may be broken.");
    expect(plainError(refused("NOT_FOUND", 404, "Chat request not found"), { notFound: "No such chat." })).toBe(
      "No such chat.",
    );
  });
});
