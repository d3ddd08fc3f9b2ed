import http from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonText } from "@/server/http/handler";
import { sendResponse } from "@/server/http/node-bridge";

/** What `text` is as UTF-8 (a lone surrogate is U+FFFD, as Buffer.from and TextEncoder write it). */
const utf8 = (text: string) => Buffer.from(text, "utf8");
const written = (answer: JsonText) => {
  const body = answer.toWrite();
  return typeof body === "string" ? utf8(body) : body;
};

/** `text` cut at the given places (any UTF-16 index: between the halves of a surrogate pair too). */
const cut = (text: string, at: number[]) => {
  const ends = [...new Set(at.map((i) => i % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let from = 0;
  for (const end of ends) {
    parts.push(text.slice(from, end));
    from = end;
  }
  parts.push(text.slice(from));
  return parts;
};

// Strings of any UTF-16 code units (lone surrogates included), long ones, and emoji to split.
const anyText = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: "binary-ascii", minLength: 1000, maxLength: 3000 }),
  fc.string({ unit: fc.constantFrom("🎰", "🃏", "é", "\ud800", "\udc00", "a"), maxLength: 1500 }),
);

/**
 * A JsonText's bytes (handler.ts toWrite, as node-bridge.ts writes them) are the UTF-8 of its
 * whole text however it is cut into pieces: a surrogate pair split between two pieces is still one
 * 4-byte character, not two replacement characters.
 */
describe("JsonText written as UTF-8", () => {
  it("is the UTF-8 of its joined text, for any pieces of any UTF-16 text", () => {
    fc.assert(
      fc.property(anyText, fc.array(fc.nat(), { maxLength: 6 }), (text, at) => {
        const answer = new JsonText(cut(text, at));
        expect(answer.content).toBe(text);
        expect(written(answer).equals(utf8(text))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("is JSON.stringify's UTF-8 for any value cut anywhere", () => {
    fc.assert(
      fc.property(
        fc.jsonValue().chain((v) => fc.tuple(fc.constant(v), fc.string({ unit: "binary" }))),
        fc.array(fc.nat(), { maxLength: 6 }),
        ([value, text], at) => {
          const json = JSON.stringify({ value, text, emoji: "🎰".repeat(600) });
          expect(written(new JsonText(cut(json, at))).equals(utf8(json))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("goes out over HTTP with those bytes and their length as Content-Length", async () => {
    let answer = new JsonText("");
    const server = http.createServer((_req, res) => void sendResponse(res, answer));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      await fc.assert(
        fc.asyncProperty(anyText, fc.array(fc.nat(), { maxLength: 4 }), async (text, at) => {
          answer = new JsonText(cut(text, at));
          const res = await fetch(url);
          const body = Buffer.from(await res.arrayBuffer());
          expect(body.equals(utf8(text))).toBe(true);
          expect(res.headers.get("content-length")).toBe(String(body.length));
        }),
        { numRuns: 200 },
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
