"use client";

import { TRPCClientError } from "@trpc/client";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import { reviveDates } from "@/protocol/events";
import { loadPhoto } from "./photo-store";

/** HTTP statuses of POST /api/photos as the tRPC codes the outbox already reasons about. */
const CODES: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "TOO_MANY_REQUESTS",
};

/**
 * Sends a queued photo (its bytes from the photo store) to POST /api/photos. A refusal is thrown
 * as a TRPCClientError with the same code and data a tRPC send would carry, so the outbox treats
 * photos and texts alike: network trouble → retry, 429 → wait, a final refusal → failed with the
 * server's sentence.
 */
export async function sendPhoto(entry: {
  id: string;
  text: string;
  requestId?: string;
}): Promise<{ message: ChatMessage; request: ChatRequest }> {
  const blob = await loadPhoto(entry.id);
  if (!blob) throw refusal(400, "This photo is no longer on this device: attach it again");
  const query = new URLSearchParams({ id: entry.id, text: entry.text });
  if (entry.requestId) query.set("requestId", entry.requestId);
  const res = await fetch(`/api/photos?${query}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: blob,
  });
  const body = (await res.json().catch(() => null)) as {
    message?: Record<string, unknown>;
    request?: Record<string, unknown>;
    error?: { message?: string; retryAfterSeconds?: number };
  } | null;
  if (res.ok && body?.message && body.request) {
    return { message: reviveDates<ChatMessage>(body.message), request: reviveDates<ChatRequest>(body.request) };
  }
  throw refusal(res.status, body?.error?.message ?? "The photo could not be sent", body?.error?.retryAfterSeconds);
}

function refusal(status: number, message: string, retryAfterSeconds?: number) {
  return TRPCClientError.from({
    error: {
      code: -32000,
      message,
      data: { code: CODES[status] ?? "INTERNAL_SERVER_ERROR", httpStatus: status, retryAfterSeconds },
    },
  });
}
