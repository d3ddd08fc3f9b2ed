import { integrationSend } from "@/server/http/club-api";
import { httpDeps } from "@/server/http/deps";

export async function POST(request: Request) {
  return integrationSend(await httpDeps(), request);
}
