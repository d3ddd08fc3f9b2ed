import { createCallerFactory, createTRPCRouter } from "./init";
import { chatRouter } from "./routers/chat";
import { staffRouter } from "./routers/staff";

export const appRouter = createTRPCRouter({ chat: chatRouter, staff: staffRouter });
export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
