"use client";

import { createContext, useContext, useState } from "react";
import { adoptLegacyOutboxes } from "../../_chat/outbox";
import { sendPhoto } from "../../_chat/photo-upload";
import { useOutbox } from "../../_chat/use-outbox";
import { useTRPCClient } from "../../_trpc/client";
import { useStaffCaches } from "./staff-caches";

type StaffOutbox = ReturnType<typeof useOutbox>;
const StaffOutboxContext = createContext<StaffOutbox | null>(null);

/**
 * The staff portal's one outbox: replies queued in any chat keep retrying whatever the staff
 * member has open, and show as "sending" in their own conversation.
 */
export function StaffOutboxProvider({ staffId, children }: { staffId: string; children: React.ReactNode }) {
  const client = useTRPCClient();
  const caches = useStaffCaches();
  const owner = `staff-${staffId}`;
  // Once, before the outbox first reads storage: replies queued by the per-conversation outboxes of old.
  useState(() => adoptLegacyOutboxes(owner));
  const outbox = useOutbox({
    owner,
    send: async (entry) => {
      // No chat (cannot happen from this portal): the server's BAD_REQUEST marks it failed.
      const reply = { requestId: entry.requestId ?? "", id: entry.id, text: entry.text };
      const result = entry.photo ? await sendPhoto(reply) : await client.staff.reply.mutate(reply);
      caches.applyRequest(result.request, result.message);
      return result.message;
    },
    onStored: caches.addToThread,
  });
  return <StaffOutboxContext.Provider value={outbox}>{children}</StaffOutboxContext.Provider>;
}

export function useStaffOutbox() {
  const outbox = useContext(StaffOutboxContext);
  if (!outbox) throw new Error("useStaffOutbox must be used inside <StaffOutboxProvider>");
  return outbox;
}
