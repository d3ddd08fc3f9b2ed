import { TRPCClientError } from "@trpc/client";

/**
 * Codes whose server message is already a sentence written for people (ChatError, limits, faults;
 * a photo's refusals: "Only JPEG, PNG or WebP photos can be sent", the size limit).
 */
const SPOKEN = new Set([
  "CONFLICT",
  "TOO_MANY_REQUESTS",
  "INTERNAL_SERVER_ERROR",
  "BAD_REQUEST",
  "NOT_FOUND",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
]);
const CODE_WORD = /^[A-Z_]+$/;

/**
 * What a person is told when a call fails: the one translation from errors to words, so no
 * screen shows "UNAUTHORIZED", "Failed to fetch" or an empty line. `notFound` is the caller's
 * sentence for a thing that is not there — including an id that could not even be one (a broken
 * link), whose input message ("Request id must be a UUID") was written for developers.
 */
export function plainError(error: unknown, opts: { notFound?: string } = {}): string {
  if (!(error instanceof TRPCClientError) || !error.data) {
    // No answer from the server at all: the network, or the server is down.
    return error instanceof TRPCClientError
      ? "Could not reach Floorline. Check the connection and try again."
      : "Something went wrong. Try again.";
  }
  const code = String(error.data.code ?? "");
  if (code === "UNAUTHORIZED") return "You are signed out. Sign in again to carry on.";
  if (code === "FORBIDDEN") return "You are not allowed to do that.";
  if (opts.notFound && (code === "NOT_FOUND" || code === "BAD_REQUEST")) return opts.notFound;
  const message = error.message.trim();
  if (SPOKEN.has(code) && message && !CODE_WORD.test(message)) return message;
  return "Something went wrong. Try again.";
}
