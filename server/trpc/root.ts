import { createCallerFactory, createTRPCRouter } from "./init";
import { accountRouter } from "./routers/account";
import { adminRouter } from "./routers/admin";
import { chatRouter } from "./routers/chat";
import { staffRouter } from "./routers/staff";

export const appRouter = createTRPCRouter({
  chat: chatRouter,
  staff: staffRouter,
  admin: adminRouter,
  account: accountRouter,
});
export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
