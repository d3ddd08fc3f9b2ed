import { z } from "zod";
import { rateChatInput, sendMessageInput, sinceInput, threadPageInput } from "@/protocol/inputs";
import { markStaffMessagesRead, sendAsPlayer, waitingStatus } from "../../chat/actions";
import { messagesSince, threadPage } from "../../chat/messages";
import { forPlayer } from "../../chat/player-view";
import { rateChat } from "../../chat/ratings";
import { createTRPCRouter, inThread, playerProcedure, playerUserProcedure } from "../init";

/** The player portal's API: always the signed-in player's own thread, never another's. */
export const chatRouter = createTRPCRouter({
  // The player row playerProcedure just read is the answer: one statement per call (issue 11).
  me: playerProcedure.query(({ ctx }) => ({
    id: ctx.player.id,
    displayName: ctx.player.displayName,
    balance: ctx.player.balance,
  })),

  status: playerProcedure.query(async ({ ctx }) => forPlayer(await waitingStatus(ctx, ctx.player))),

  send: playerUserProcedure
    .input(sendMessageInput)
    .mutation(async ({ ctx, input }) =>
      forPlayer(await sendAsPlayer(ctx, { ...input, player: { userId: ctx.user.id } })),
    ),

  history: playerProcedure
    .input(threadPageInput)
    .query(async ({ ctx, input }) =>
      forPlayer(await threadPage(ctx.db, inThread(ctx, { ...input, playerId: ctx.player.id }))),
    ),

  since: playerProcedure
    .input(sinceInput)
    .query(async ({ ctx, input }) =>
      forPlayer(await messagesSince(ctx.db, inThread(ctx, { ...input, playerId: ctx.player.id }))),
    ),

  markRead: playerProcedure
    .input(z.strictObject({ upToSeq: z.number().int().positive() }))
    .mutation(({ ctx, input }) => markStaffMessagesRead(ctx, { player: ctx.player, upToSeq: input.upToSeq })),

  /** After a chat is closed: 1–5, once. */
  rate: playerProcedure
    .input(rateChatInput)
    .mutation(({ ctx, input }) => rateChat(ctx.db, { ...input, player: ctx.player })),
});
