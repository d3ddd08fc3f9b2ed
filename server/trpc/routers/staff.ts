import { z } from "zod";
import { playerId, replyInput, requestIdInput, sinceInput, threadPageInput } from "@/protocol/inputs";
import { claim, markPlayerMessages, reopen, replyAsStaffMember, resolve } from "../../chat/actions";
import { messagesSince, threadPage } from "../../chat/messages";
import { setAcceptingChats } from "../../chat/push-targets";
import { ratingOf } from "../../chat/ratings";
import { getPlayerCard, getRequest, listQueue } from "../../chat/staff";
import { createTRPCRouter, inThread, staffProcedure } from "../init";

const playerThread = { playerId };

export const staffRouter = createTRPCRouter({
  me: staffProcedure.query(({ ctx }) => ctx.staff),

  /** Off duty: no pushes for new or escalated chats. */
  setAccepting: staffProcedure
    .input(z.strictObject({ accepting: z.boolean() }))
    .mutation(({ ctx, input }) =>
      setAcceptingChats(ctx.db, { staffUserId: ctx.staff.userId, accepting: input.accepting }),
    ),

  queue: staffProcedure.query(({ ctx }) => listQueue(ctx.db)),

  conversation: staffProcedure.input(requestIdInput).query(async ({ ctx, input }) => {
    const request = await getRequest(ctx.db, input.requestId);
    return {
      request,
      player: await getPlayerCard(ctx.db, request.playerId),
      rating: await ratingOf(ctx.db, request.id),
    };
  }),

  thread: staffProcedure
    .input(threadPageInput.extend(playerThread))
    .query(({ ctx, input }) => threadPage(ctx.db, inThread(ctx, input))),

  threadSince: staffProcedure
    .input(sinceInput.extend(playerThread))
    .query(({ ctx, input }) => messagesSince(ctx.db, inThread(ctx, input))),

  reply: staffProcedure
    .input(replyInput)
    .mutation(({ ctx, input }) => replyAsStaffMember(ctx, { ...input, staff: ctx.staff })),

  claim: staffProcedure.input(requestIdInput).mutation(({ ctx, input }) => claim(ctx, { ...input, staff: ctx.staff })),
  resolve: staffProcedure
    .input(requestIdInput)
    .mutation(({ ctx, input }) => resolve(ctx, { ...input, staff: ctx.staff })),
  reopen: staffProcedure
    .input(requestIdInput)
    .mutation(({ ctx, input }) => reopen(ctx, { ...input, staff: ctx.staff })),

  /** Receipts: a staff client got (received) or showed (read) the player's messages up to a seq. */
  markMessages: staffProcedure
    .input(
      z.strictObject({
        playerId,
        status: z.enum(["received", "read"]),
        upToSeq: z.number().int().positive(),
      }),
    )
    .mutation(({ ctx, input }) => markPlayerMessages(ctx, inThread(ctx, input))),
});
