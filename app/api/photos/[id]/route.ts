import { httpDeps } from "@/server/http/deps";
import { servePhoto } from "@/server/http/photo-api";

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  return servePhoto(await httpDeps(), request, await params);
}
