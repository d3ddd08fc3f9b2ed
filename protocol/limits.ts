/**
 * Limits the browser needs without the schemas that enforce them: importing protocol/inputs.ts
 * would put zod (~30 KB gzipped) into the player page for one number.
 */
export const MAX_MESSAGE_LENGTH = 2000;
