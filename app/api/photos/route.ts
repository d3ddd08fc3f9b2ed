import { httpDeps } from "@/server/http/deps";
import { uploadPhoto } from "@/server/http/photo-api";

export async function POST(request: Request) {
  return uploadPhoto(await httpDeps(), request);
}
