import { trpcRoute } from "@/server/http/guarded-routes";

const handler = (request: Request) => trpcRoute(request);

export { handler as GET, handler as POST };
