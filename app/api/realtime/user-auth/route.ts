import { httpDeps } from "@/server/http/deps";
import { authenticateUser } from "@/server/realtime-auth";

export async function POST(request: Request) {
  return authenticateUser(await httpDeps(), request);
}
