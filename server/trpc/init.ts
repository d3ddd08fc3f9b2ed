import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";
import type { Db } from "@/db/client";
import type { Role } from "@/db/schema";
import { transformer } from "@/protocol/transformer";
import type { Auth } from "../auth";
import { mayReadThread, type Viewer } from "../chat/access";
import type { ChatDeps } from "../chat/actions";
import { findPlayer, findStaff, isStaffRole } from "../chat/actors";
import { SOCKET_ID_HEADER } from "../chat/channels";
import { ChatError } from "../chat/errors";
import { silentGateway } from "../chat/gateway";
import { ONLY_PLAYERS } from "../chat/send";
import { ONLY_STAFF } from "../chat/staff";
import { type HttpDeps, httpDeps } from "../http/deps";
import { faultMessage, reportFault } from "../http/faults";
import { cachedSession } from "../session-cache";

export type ContextUser = { id: string; name: string; email: string; role: Role };

/**
 * What every procedure sees: the chat dependencies plus who is calling. Tests build it directly
 * (`createContextInner`) with their own db and, when they test delivery, a real realtime server.
 */
export type Context = ChatDeps & { user: ContextUser | null; auth?: Auth };

export function createContextInner(
  ctx: { db: Db; user: ContextUser | null; auth?: Auth } & Partial<ChatDeps>,
): Context {
  return { realtime: silentGateway, ...ctx };
}

export async function createTRPCContext(opts: { headers: Headers; deps?: HttpDeps }): Promise<Context> {
  const { auth, db, realtime, notifications, sendLimit, autoAssign } = opts.deps ?? (await httpDeps());
  const session = await cachedSession(auth, opts.headers);
  const user = session?.user;
  const socketId = opts.headers.get(SOCKET_ID_HEADER);
  return createContextInner({
    db,
    user: user ? { id: user.id, name: user.name, email: user.email, role: user.role as Role } : null,
    realtime,
    notifications,
    sendLimit,
    autoAssign,
    auth,
    socketId: socketId && /^\d+\.\d+$/.test(socketId) ? socketId : undefined,
  });
}

const t = initTRPC.context<Context>().create({
  // superjson's wire format, serialised faster (protocol/transformer.ts); browsers read it with superjson.
  transformer,
  errorFormatter({ shape, error, path }) {
    if (shape.data.httpStatus >= 500) {
      // Never the driver's words ("Failed query: select … params: …"): a reference to the log line.
      const reference = reportFault(`trpc ${path ?? "?"}`, error.cause ?? error);
      const { stack: _, ...data } = shape.data;
      return { ...shape, message: faultMessage(reference), data: { ...data, zodError: null } };
    }
    // Forms show zod's per-field messages next to the field they belong to.
    const zodError = error.cause instanceof ZodError ? z.flattenError(error.cause) : null;
    // The top-level message is what a client shows: plain sentences, not zod's JSON dump.
    const message =
      error.cause instanceof ZodError ? error.cause.issues.map((issue) => issue.message).join("; ") : shape.message;
    // TOO_MANY_REQUESTS carries the wait, so the outbox can hold the message that long.
    const details = error.cause instanceof ChatError ? error.cause.details : {};
    return { ...shape, message, data: { ...shape.data, zodError, ...details } };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Domain errors become the tRPC code they mean, with their message intact. */
const domainErrors = t.middleware(async ({ next }) => asTrpcResult(await next()));

/** A call's result, its domain error (a ChatError) thrown as the TRPCError it means. */
function asTrpcResult<R extends { ok: true } | { ok: false; error: TRPCError }>(result: R): R {
  if (!result.ok && result.error.cause instanceof ChatError) {
    throw new TRPCError({
      code: result.error.cause.code,
      message: result.error.cause.message,
      cause: result.error.cause,
    });
  }
  return result;
}

export const publicProcedure = t.procedure.use(domainErrors);

/** The caller's user, or the refusal every procedure that needs one gives: the one place it is said. */
function signedIn<U>(user: U | null | undefined): U {
  if (!user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  return user;
}

export const authedProcedure = publicProcedure.use(({ ctx, next }) => next({ ctx: { user: signedIn(ctx.user) } }));

/**
 * A signed-in player's procedure with their record: authedProcedure and the record lookup as one
 * middleware, as signedInAs below (the same refusals in the same order, the same domain errors).
 * Each of the chain's middlewares cost tRPC a call, two or three copies of the call's options and
 * context, and their promises: about a tenth of a lone `chat.me`'s CPU (issue 11).
 */
export const playerProcedure = t.procedure.use(async ({ ctx, next }) => {
  const user = signedIn(ctx.user);
  const player = await findPlayer(ctx.db, user);
  if (!player) throw new TRPCError({ code: "FORBIDDEN", message: ONLY_PLAYERS });
  return asTrpcResult(await next({ ctx: { user, player } }));
});

/**
 * A player's procedure that finds the player record itself: the send does it in its one statement
 * (server/chat/send.ts), which refuses a user without one with the same FORBIDDEN. Saves a round
 * trip per message (issue 11).
 */
export const playerUserProcedure = signedInAs((role) => role === "player", ONLY_PLAYERS);

/** A signed-in staff member's procedure with their record, in one middleware as playerProcedure. */
export const staffProcedure = t.procedure.use(async ({ ctx, next }) => {
  const user = signedIn(ctx.user);
  const member = await findStaff(ctx.db, user);
  if (!member) throw new TRPCError({ code: "FORBIDDEN", message: ONLY_STAFF });
  return asTrpcResult(await next({ ctx: { user, staff: member } }));
});

/**
 * A staff procedure that finds the staff record itself: the reply does it in its one statement
 * (server/chat/staff.ts), which refuses a user without one with the same FORBIDDEN. Saves a round
 * trip per reply (issue 11).
 */
export const staffUserProcedure = signedInAs(isStaffRole, ONLY_STAFF);

/**
 * publicProcedure, then authedProcedure, then a role check, as one middleware: the same refusals
 * in the same order and the same domain errors, for the send and the reply, where each middleware
 * of tRPC's chain cost a call, two copies of the call's options and their promises (issue 11).
 */
function signedInAs(allowed: (role: Role) => boolean, refusal: string) {
  return t.procedure.use(async ({ ctx, next }) => {
    const user = signedIn(ctx.user);
    if (!allowed(user.role)) throw new TRPCError({ code: "FORBIDDEN", message: refusal });
    return asTrpcResult(await next({ ctx: { user } }));
  });
}

/** Admins: accounts, capacities, canned replies, and taking over any chat. */
export const adminProcedure = staffProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== "admin") throw new TRPCError({ code: "FORBIDDEN", message: "Only admins can do this" });
  return next();
});
/**
 * The thread a procedure reads or writes, checked by the one rule (server/chat/access.ts) that
 * the REST routes and channel authorization use too. Returns the input for chaining.
 */
export function inThread<T extends { playerId: number }>(
  ctx: { player?: Viewer["player"]; staff?: Viewer["staff"] },
  input: T,
): T {
  if (!mayReadThread({ player: ctx.player ?? null, staff: ctx.staff ?? null }, input.playerId)) {
    throw new TRPCError({ code: "FORBIDDEN", message: "Not your conversation" });
  }
  return input;
}
