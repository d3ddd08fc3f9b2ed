import { realtimeEndpoints } from "@/env";
import { requireRole } from "../../_auth/guards";
import { SignOutButton } from "../../_auth/sign-out-button";
import { olderPage } from "../../_chat/thread-cache";
import { RealtimeProvider } from "../../_realtime/provider";
import { HydrateClient, prefetch, trpc } from "../../_trpc/server";
import { PlayerChat } from "./player-chat";

export const metadata = { title: "Chat with the floor team · Floorline" };

export default async function PlayerPage() {
  const user = await requireRole(["player"], "/player");
  await Promise.all([
    prefetch(trpc.chat.me.queryOptions()),
    prefetch(trpc.chat.status.queryOptions()),
    prefetch(trpc.chat.history.infiniteQueryOptions({ limit: 50 }, { getNextPageParam: olderPage })),
  ]);
  return (
    <HydrateClient>
      <RealtimeProvider config={realtimeEndpoints().browser}>
        <div className="portal player-portal">
          <PlayerChat userId={user.id} signOut={<SignOutButton />} />
        </div>
      </RealtimeProvider>
    </HydrateClient>
  );
}
