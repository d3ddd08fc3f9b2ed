"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../_trpc/client";
import { plainError } from "../../_trpc/plain-error";

/** On duty or not: only staff accepting chats are pushed new and escalated chats. */
export function AcceptingToggle() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.staff.me.queryOptions());
  // What the person just asked for, held in React state so the box shows it at the end of the very
  // click: the mutation's own pending state reaches React a task later, and a controlled checkbox
  // would flick back until then.
  const [wanted, setWanted] = useState<boolean | null>(null);
  const set = useMutation(
    trpc.staff.setAccepting.mutationOptions({
      onSuccess: (_result, { accepting }) => {
        queryClient.setQueryData(trpc.staff.me.queryKey(), (old) => old && { ...old, acceptingChats: accepting });
        return queryClient.invalidateQueries({ queryKey: trpc.staff.me.queryKey() });
      },
      onSettled: () => setWanted(null),
    }),
  );
  const accepting = wanted ?? me.data?.acceptingChats ?? true;
  return (
    <label className="toggle">
      <input
        type="checkbox"
        checked={accepting}
        disabled={!me.data}
        onChange={(e) => {
          setWanted(e.target.checked);
          set.mutate({ accepting: e.target.checked });
        }}
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
