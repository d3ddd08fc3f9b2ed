/**
 * Limits the browser needs without the schemas that enforce them: importing protocol/inputs.ts
 * would put zod (~30 KB gzipped) into the player page for one number.
 */
export const MAX_MESSAGE_LENGTH = 2000;

/** Photos: the largest upload accepted (5 MB), before the server re-encodes it. */
export const MAX_PHOTO_BYTES = 5 * 1024 * 1024;
/** What a photo may be, by its content (the server sniffs the bytes; the browser checks `File.type` first). */
export const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
/** The text of a photo sent without a description: its alt text and its preview in the queue. */
export const DEFAULT_PHOTO_TEXT = "Photo";
