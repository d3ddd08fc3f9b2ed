import { randomBytes } from "node:crypto";

/**
 * A fault the client must not see. The full error (SQL, parameters, stack) goes to the server
 * log under a short reference; the client gets only the sentence and the reference, which is
 * enough for support to find the log line.
 */
const references = new WeakMap<object, string>();

export function reportFault(where: string, err: unknown, log: (...args: unknown[]) => void = console.error): string {
  const known = err && typeof err === "object" ? references.get(err) : undefined;
  if (known) return known; // one log line per fault, however many layers report it
  const reference = randomBytes(4).toString("hex");
  if (err && typeof err === "object") references.set(err, reference);
  log(`[${where}] fault ${reference}:`, err);
  return reference;
}

export const faultMessage = (reference: string) => `Something went wrong on our side (reference ${reference}).`;
