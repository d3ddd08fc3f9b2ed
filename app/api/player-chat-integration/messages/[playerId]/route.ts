import { playerMessages } from "@/server/http/club-api";
import { httpDeps } from "@/server/http/deps";

export async function GET(request: Request, { params }: { params: Promise<{ playerId: string }> }) {
  return playerMessages(await httpDeps(), request, await params);
}
