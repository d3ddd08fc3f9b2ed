import { changePasswordInput } from "@/protocol/inputs";
import { changeOwnPassword, mustChangePassword } from "../../admin/accounts";
import { authedProcedure, createTRPCRouter } from "../init";

/** The signed-in person's own account, whatever their role. */
export const accountRouter = createTRPCRouter({
  mustChangePassword: authedProcedure.query(({ ctx }) => mustChangePassword(ctx.db, ctx.user.id)),
  changePassword: authedProcedure
    .input(changePasswordInput)
    .mutation(({ ctx, input }) => changeOwnPassword(ctx.db, { ...input, userId: ctx.user.id })),
});
