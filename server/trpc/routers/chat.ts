import { eq } from "drizzle-orm";
import { players } from "@/db/schema";
import { sendMessageInput, sinceInput, threadPageInput } from "../../chat/inputs";
import { messagesSince, threadPage } from "../../chat/messages";
import { openRequestOf, sendPlayerMessage } from "../../chat/send";
import { createTRPCRouter, playerProcedure } from "../init";

/** The player portal's API: always the signed-in player's own thread, never another's. */
export const chatRouter = createTRPCRouter({
  me: playerProcedure.query(async ({ ctx }) => {
    const [me] = await ctx.db
      .select({ id: players.id, displayName: players.displayName, balance: players.balance })
      .from(players)
      .where(eq(players.id, ctx.player.id));
    return { player: me ?? null, openRequest: await openRequestOf(ctx.db, ctx.player.id) };
  }),

  send: playerProcedure
    .input(sendMessageInput)
    .mutation(({ ctx, input }) => sendPlayerMessage(ctx.db, { ...input, player: ctx.player })),

  history: playerProcedure
    .input(threadPageInput)
    .query(({ ctx, input }) => threadPage(ctx.db, { ...input, playerId: ctx.player.id })),

  since: playerProcedure
    .input(sinceInput)
    .query(({ ctx, input }) => messagesSince(ctx.db, { ...input, playerId: ctx.player.id })),
});
