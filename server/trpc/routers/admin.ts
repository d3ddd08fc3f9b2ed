import {
  cannedReplyIdInput,
  cannedReplyInput,
  capacityInput,
  createAccountInput,
  deactivationInput,
} from "@/protocol/inputs";
import { createAccount, listAccounts, setDeactivated } from "../../admin/accounts";
import { getAuth } from "../../auth";
import { changeCapacity } from "../../chat/actions";
import { createCannedReply, deleteCannedReply, updateCannedReply } from "../../chat/canned";
import { adminProcedure, createTRPCRouter } from "../init";

export const adminRouter = createTRPCRouter({
  accounts: adminProcedure.query(({ ctx }) => listAccounts(ctx.db)),
  createAccount: adminProcedure.input(createAccountInput).mutation(({ ctx, input }) => createAccount(ctx.db, input)),
  setDeactivated: adminProcedure
    .input(deactivationInput)
    .mutation(async ({ ctx, input }) =>
      setDeactivated({ db: ctx.db, auth: ctx.auth ?? (await getAuth()) }, { ...input, byUserId: ctx.user.id }),
    ),
  setCapacity: adminProcedure.input(capacityInput).mutation(({ ctx, input }) => changeCapacity(ctx, input)),

  createCannedReply: adminProcedure
    .input(cannedReplyInput)
    .mutation(({ ctx, input }) => createCannedReply(ctx.db, input)),
  updateCannedReply: adminProcedure
    .input(cannedReplyInput.extend(cannedReplyIdInput.shape))
    .mutation(({ ctx, input }) => updateCannedReply(ctx.db, input)),
  deleteCannedReply: adminProcedure
    .input(cannedReplyIdInput)
    .mutation(({ ctx, input }) => deleteCannedReply(ctx.db, input)),
});
