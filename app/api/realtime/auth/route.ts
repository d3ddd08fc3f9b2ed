import { httpDeps } from "@/server/http/deps";
import { authorizeChannel } from "@/server/realtime-auth";

export async function POST(request: Request) {
  return authorizeChannel(await httpDeps(), request);
}
