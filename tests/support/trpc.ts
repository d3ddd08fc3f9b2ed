import { TRPCError } from "@trpc/server";

/** The TRPCError a call was refused with; fails the test if the call succeeded. */
export async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TRPCError) return err;
    throw err;
  }
  throw new Error("expected the call to be refused");
}
