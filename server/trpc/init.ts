import { initTRPC, TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import superjson from "superjson";
import { ZodError, z } from "zod";
import type { Db } from "@/db/client";
import { players, type Role, staff } from "@/db/schema";
import { getSession } from "../auth";
import { ChatError } from "../chat/errors";
import { getDb } from "../db";

export type ContextUser = { id: string; name: string; email: string; role: Role };

/** What every procedure sees. Tests build it directly (`createContextInner`) with their own db. */
export type Context = { db: Db; user: ContextUser | null };

export function createContextInner(ctx: Context): Context {
  return ctx;
}

export async function createTRPCContext(opts: { headers: Headers }): Promise<Context> {
  const { db } = await getDb();
  const session = await getSession(opts.headers);
  const user = session?.user;
  return createContextInner({
    db,
    user: user ? { id: user.id, name: user.name, email: user.email, role: user.role as Role } : null,
  });
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    // Forms show zod's per-field messages next to the field they belong to.
    const zodError = error.cause instanceof ZodError ? z.flattenError(error.cause) : null;
    // The top-level message is what a client shows: plain sentences, not zod's JSON dump.
    const message =
      error.cause instanceof ZodError ? error.cause.issues.map((issue) => issue.message).join("; ") : shape.message;
    return { ...shape, message, data: { ...shape.data, zodError } };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Domain errors become the tRPC code they mean, with their message intact. */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof ChatError) {
    throw new TRPCError({ code: result.error.cause.code, message: result.error.cause.message });
  }
  return result;
});

export const publicProcedure = t.procedure.use(domainErrors);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  return next({ ctx: { user: ctx.user } });
});

export const playerProcedure = authedProcedure.use(async ({ ctx, next }) => {
  const [player] =
    ctx.user.role === "player" ? await ctx.db.select().from(players).where(eq(players.userId, ctx.user.id)) : [];
  if (!player) throw new TRPCError({ code: "FORBIDDEN", message: "Only players can do this" });
  return next({ ctx: { player } });
});

export const staffProcedure = authedProcedure.use(async ({ ctx, next }) => {
  const [member] =
    ctx.user.role === "staff" || ctx.user.role === "admin"
      ? await ctx.db.select().from(staff).where(eq(staff.userId, ctx.user.id))
      : [];
  if (!member) throw new TRPCError({ code: "FORBIDDEN", message: "Only staff can do this" });
  return next({ ctx: { staff: member } });
});
