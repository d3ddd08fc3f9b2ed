import { getAuth } from "@/server/auth";

const handler = async (req: Request) => (await getAuth()).handler(req);

export { handler as GET, handler as POST };
