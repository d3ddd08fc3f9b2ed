import { getAuth } from "@/server/auth";
import { authRoute } from "@/server/http/guarded-routes";

const handler = async (request: Request) => authRoute(await getAuth(), request);

export { handler as GET, handler as POST };
