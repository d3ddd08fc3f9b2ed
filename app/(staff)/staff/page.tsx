import { realtimeEndpoints } from "@/env";
import { oneSignalConfig } from "@/server/notify/config";
import { staffPublicId } from "@/server/notify/push-identity";
import { requireRole } from "../../_auth/guards";
import { SignOutButton } from "../../_auth/sign-out-button";
import { RealtimeProvider } from "../../_realtime/provider";
import { HydrateClient, prefetch, trpc } from "../../_trpc/server";
import { StaffPortal } from "./staff-portal";

export const metadata = { title: "Queue · Floorline staff" };

export default async function StaffPage() {
  const user = await requireRole(["staff", "admin"], "/staff");
  await Promise.all([prefetch(trpc.staff.queue.queryOptions()), prefetch(trpc.staff.me.queryOptions())]);
  return (
    <HydrateClient>
      <RealtimeProvider config={realtimeEndpoints().browser}>
        <div className="portal staff-portal">
          <StaffPortal
            me={{ id: user.id, name: user.name, pushId: staffPublicId(user.id) }}
            signOut={<SignOutButton />}
            oneSignalAppId={oneSignalConfig().appId}
          />
        </div>
      </RealtimeProvider>
    </HydrateClient>
  );
}
