import { eq } from "drizzle-orm";
import { z } from "zod";
import { players } from "@/db/schema";
import { rateChatInput, sendMessageInput, sinceInput, threadPageInput } from "@/protocol/inputs";
import { markStaffMessagesRead, sendAsPlayer, waitingStatus } from "../../chat/actions";
import { messagesSince, threadPage } from "../../chat/messages";
import { forPlayer } from "../../chat/player-view";
import { rateChat } from "../../chat/ratings";
import { createTRPCRouter, inThread, playerProcedure, playerUserProcedure } from "../init";

/** The player portal's API: always the signed-in player's own thread, never another's. */
export const chatRouter = createTRPCRouter({
  me: playerProcedure.query(async ({ ctx }) => {
    const [me] = await ctx.db
      .select({ id: players.id, displayName: players.displayName, balance: players.balance })
      .from(players)
      .where(eq(players.id, ctx.player.id));
    return me ?? null;
  }),

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
