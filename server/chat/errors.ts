/** Errors the chat domain raises on purpose; transports map `code` to tRPC codes / HTTP statuses. */
export type ChatErrorCode =
  | "BAD_REQUEST"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "CONFLICT"
  | "TOO_MANY_REQUESTS"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE";

export class ChatError extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    /** TOO_MANY_REQUESTS: when trying again can succeed (REST: Retry-After; tRPC: error data). */
    readonly details: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = "ChatError";
  }
}

export const httpStatusOf: Record<ChatErrorCode, number> = {
  BAD_REQUEST: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
};
