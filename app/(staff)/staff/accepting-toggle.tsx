"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../_trpc/client";
import { plainError } from "../../_trpc/plain-error";

/** On duty or not: only staff accepting chats are pushed new and escalated chats. */
export function AcceptingToggle() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.staff.me.queryOptions());
  const set = useMutation(
    trpc.staff.setAccepting.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.staff.me.queryKey() }),
    }),
  );
  const accepting = set.isPending ? set.variables.accepting : (me.data?.acceptingChats ?? true);
  return (
    <label className="toggle">
      <input
        type="checkbox"
        checked={accepting}
        disabled={!me.data}
        onChange={(e) => set.mutate({ accepting: e.target.checked })}
      />
      Accepting chats
      {set.isError && (
        <span role="alert" className="error small">
          {" "}
          Not changed: {plainError(set.error)}
        </span>
      )}
    </label>
  );
}
