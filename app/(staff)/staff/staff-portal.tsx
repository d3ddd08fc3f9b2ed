"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { useSignedOut } from "../../_auth/signed-out";
import { mergeFetchedQueue, splitQueue } from "../../_chat/queue-cache";
import { ConnectionBanner } from "../../_realtime/provider";
import { useTRPC } from "../../_trpc/client";
import { plainError } from "../../_trpc/plain-error";
import { useHydrated } from "../../_ui/use-hydrated";
import { AcceptingToggle } from "./accepting-toggle";
import { SoundLockedNotice, StaffAlertSettings, useStaffAlerts } from "./alerts";
import { Conversation } from "./conversation";
import { QueueSection } from "./queue-list";
import { StaffOutboxProvider } from "./staff-outbox";
import { useStaffLive } from "./use-staff-live";

/** `pushId`: the opaque OneSignal external id (never the user id). */
export type StaffMe = { id: string; name: string; pushId: string };

export function StaffPortal({
  me,
  signOut,
  oneSignalAppId,
}: {
  me: StaffMe;
  signOut: React.ReactNode;
  oneSignalAppId: string | undefined;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const selectedId = params.get("request");
  const [onlyMine, setOnlyMine] = useState(false);
  const hydrated = useHydrated();
  const signedOut = useSignedOut();
  const queue = useQuery({ ...trpc.staff.queue.queryOptions(), structuralSharing: mergeFetchedQueue });
  const items = queue.data ?? [];

  // The open conversation lives in the URL: reload-safe, push notifications can deep-link, and
  // each chat opened is a history entry so Back and Forward move between chats.
  const hrefOf = (id: string) => `${pathname}?request=${id}`;
  const open = (id: string | null) => router.push(id ? hrefOf(id) : pathname, { scroll: false });

  useStaffLive(me);
  useStaffAlerts({ me, queue: queue.data, viewingRequestId: selectedId });
  const { waiting, inProgress: allInProgress, resolved } = splitQueue(items);
  const inProgress = onlyMine ? allInProgress.filter((i) => i.assignedStaffId === me.id) : allInProgress;

  return (
    <StaffOutboxProvider staffId={me.id}>
      <header className="topbar">
        <div>
          <strong>Floorline</strong> <span className="muted">· Staff{signedOut ? "" : ` · ${me.name}`}</span>
        </div>
        <div className="row">
          <nav aria-label="Staff pages" className="row">
            <Link href="/staff/search">Search</Link>
            <Link href="/staff/metrics">Metrics</Link>
          </nav>
          <SoundLockedNotice />
          <AcceptingToggle />
          <StaffAlertSettings appId={oneSignalAppId} me={me} />
          {signOut}
        </div>
      </header>
      <ConnectionBanner />
      <main className={selectedId ? "staff-layout has-selection" : "staff-layout"}>
        <nav className="queue" aria-label="Chat queue">
          <h1 className="visually-hidden">Chat queue</h1>
          {queue.isError && (
            <p role="alert" className="error">
              Could not load the queue. {plainError(queue.error)}
            </p>
          )}
          <QueueSection
            title="Waiting"
            items={waiting}
            selectedId={selectedId}
            hrefOf={hrefOf}
            ageOf={(i) => i.createdAt}
            agePrefix="waiting"
            empty="Nobody is waiting."
          />
          <QueueSection
            title="In progress"
            items={inProgress}
            selectedId={selectedId}
            hrefOf={hrefOf}
            ageOf={(i) => i.lastMessageAt}
            agePrefix="last message"
            empty={onlyMine ? "No chats assigned to you." : "No chats in progress."}
            toolbar={
              <div className="segmented">
                <button type="button" aria-pressed={onlyMine} disabled={!hydrated} onClick={() => setOnlyMine(true)}>
                  Mine
                </button>
                <button type="button" aria-pressed={!onlyMine} disabled={!hydrated} onClick={() => setOnlyMine(false)}>
                  Everyone
                </button>
              </div>
            }
          />
          <QueueSection
            title="Resolved"
            items={resolved}
            selectedId={selectedId}
            hrefOf={hrefOf}
            ageOf={(i) => i.resolvedAt ?? i.lastMessageAt}
            agePrefix="resolved"
            empty="Nothing resolved recently."
          />
        </nav>
        <section className="conversation-pane" aria-label="Conversation">
          {selectedId ? (
            <Conversation key={selectedId} requestId={selectedId} me={me} onClose={() => open(null)} onOpen={open} />
          ) : (
            <p className="muted centered">Choose a chat from the queue.</p>
          )}
        </section>
      </main>
    </StaffOutboxProvider>
  );
}
