import { z } from "zod";
import { replyInput, requestIdInput, sinceInput, threadPageInput } from "../../chat/inputs";
import { claimRequest, reopenRequest, resolveRequest } from "../../chat/lifecycle";
import { messagesSince, threadPage } from "../../chat/messages";
import { getPlayerCard, getRequest, listQueue, replyAsStaff } from "../../chat/staff";
import { createTRPCRouter, staffProcedure } from "../init";

const playerThreadInput = z.strictObject({ playerId: z.number().int().positive() });

export const staffRouter = createTRPCRouter({
  queue: staffProcedure.query(({ ctx }) => listQueue(ctx.db)),

  conversation: staffProcedure.input(requestIdInput).query(async ({ ctx, input }) => {
    const request = await getRequest(ctx.db, input.requestId);
    return { request, player: await getPlayerCard(ctx.db, request.playerId) };
  }),

  thread: staffProcedure
    .input(threadPageInput.extend(playerThreadInput.shape))
    .query(({ ctx, input }) => threadPage(ctx.db, input)),

  threadSince: staffProcedure
    .input(sinceInput.extend(playerThreadInput.shape))
    .query(({ ctx, input }) => messagesSince(ctx.db, input)),

  reply: staffProcedure
    .input(replyInput)
    .mutation(({ ctx, input }) => replyAsStaff(ctx.db, { ...input, staff: ctx.staff })),

  claim: staffProcedure
    .input(requestIdInput)
    .mutation(({ ctx, input }) => claimRequest(ctx.db, { ...input, staff: ctx.staff })),

  resolve: staffProcedure
    .input(requestIdInput)
    .mutation(({ ctx, input }) => resolveRequest(ctx.db, { ...input, staff: ctx.staff })),

  reopen: staffProcedure
    .input(requestIdInput)
    .mutation(({ ctx, input }) => reopenRequest(ctx.db, { ...input, staff: ctx.staff })),
});
