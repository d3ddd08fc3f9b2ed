import { z } from "zod";
import {
  noteInput,
  playerId,
  replyInput,
  requestIdInput,
  searchInput,
  sinceInput,
  threadPageInput,
  transferInput,
} from "@/protocol/inputs";
import {
  addNote,
  claim,
  markPlayerMessages,
  release,
  reopen,
  replyAsStaffMember,
  resolve,
  setAccepting,
  takeOver,
  transfer,
} from "../../chat/actions";
import { listStaffLoad } from "../../chat/assignment";
import { listCannedReplies } from "../../chat/canned";
import { messagesSince, threadPage } from "../../chat/messages";
import { floorMetrics } from "../../chat/metrics";
import { listNotes, listTimeline } from "../../chat/notes";
import { ratingOf } from "../../chat/ratings";
import { searchChats } from "../../chat/search";
import { getPlayerCard, getRequest, listQueue } from "../../chat/staff";
import { adminProcedure, createTRPCRouter, inThread, staffProcedure, staffUserProcedure } from "../init";

const playerThread = { playerId };

export const staffRouter = createTRPCRouter({
  me: staffProcedure.query(({ ctx }) => ({ ...ctx.staff, role: ctx.user.role })),

  /** Off duty: no pushes for new or escalated chats. */
  setAccepting: staffProcedure
    .input(z.strictObject({ accepting: z.boolean() }))
    .mutation(({ ctx, input }) => setAccepting(ctx, { staffUserId: ctx.staff.userId, accepting: input.accepting })),

  colleagues: staffProcedure.query(({ ctx }) => listStaffLoad(ctx.db)),

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

  reply: staffUserProcedure
    .input(replyInput)
    .mutation(({ ctx, input }) => replyAsStaffMember(ctx, { ...input, staff: { userId: ctx.user.id } })),

  claim: staffProcedure.input(requestIdInput).mutation(({ ctx, input }) => claim(ctx, { ...input, staff: ctx.staff })),
  resolve: staffProcedure
    .input(requestIdInput)
    .mutation(({ ctx, input }) => resolve(ctx, { ...input, staff: ctx.staff })),
  reopen: staffProcedure
    .input(requestIdInput)
    .mutation(({ ctx, input }) => reopen(ctx, { ...input, staff: ctx.staff })),
  transfer: staffProcedure
    .input(transferInput)
    .mutation(({ ctx, input }) => transfer(ctx, { ...input, staff: ctx.staff })),
  release: staffProcedure
    .input(requestIdInput)
    .mutation(({ ctx, input }) => release(ctx, { ...input, staff: ctx.staff })),
  takeOver: adminProcedure
    .input(requestIdInput)
    .mutation(({ ctx, input }) => takeOver(ctx, { ...input, staff: ctx.staff })),

  notes: staffProcedure.input(requestIdInput).query(({ ctx, input }) => listNotes(ctx.db, input.requestId)),
  addNote: staffProcedure.input(noteInput).mutation(({ ctx, input }) => addNote(ctx, { ...input, staff: ctx.staff })),
  timeline: staffProcedure.input(requestIdInput).query(({ ctx, input }) => listTimeline(ctx.db, input.requestId)),
  cannedReplies: staffProcedure.query(({ ctx }) => listCannedReplies(ctx.db)),
  metrics: staffProcedure.query(({ ctx }) => floorMetrics(ctx.db)),
  search: staffProcedure.input(searchInput).query(({ ctx, input }) => searchChats(ctx.db, input)),

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
