"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { ChatRequest } from "@/db/schema";
import { useTRPC } from "../../_trpc/client";
import { plainError } from "../../_trpc/plain-error";
import { useStaffCaches } from "./staff-caches";

const time = new Intl.DateTimeFormat("en-IN", { hour: "2-digit", minute: "2-digit" });

/**
 * Transfer to a colleague, Release to the queue, and (admins) Take over: the holder's moves.
 * `onDone` is the conversation's "say what happened and move focus" (a transfer removes the form
 * that had the focus).
 */
export function HoldActions({
  request,
  meId,
  onDone,
}: {
  request: ChatRequest;
  meId: string;
  onDone: (told: string, focus: "composer" | "heading") => void;
}) {
  const trpc = useTRPC();
  const caches = useStaffCaches();
  const me = useQuery(trpc.staff.me.queryOptions());
  const mine = request.status === "in_progress" && request.assignedStaffId === meId;
  const held = request.status === "in_progress";
  const colleagues = useQuery({ ...trpc.staff.colleagues.queryOptions(), enabled: held });
  // Refetched when the holder changes, so "With …" names whoever has it now.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the holder is the trigger
  useEffect(() => void colleagues.refetch(), [request.assignedStaffId]);
  const holder = held && !mine ? colleagues.data?.find((c) => c.userId === request.assignedStaffId) : undefined;
  const action = { onSuccess: (changed: ChatRequest) => caches.applyRequest(changed) };
  const transfer = useMutation(
    trpc.staff.transfer.mutationOptions({
      onSuccess: (changed: ChatRequest, input) => {
        caches.applyRequest(changed);
        const to = colleagues.data?.find((c) => c.userId === input.toUserId)?.displayName ?? "a colleague";
        onDone(`Chat transferred to ${to}`, "heading");
      },
    }),
  );
  const release = useMutation(trpc.staff.release.mutationOptions(action));
  const takeOver = useMutation(trpc.staff.takeOver.mutationOptions(action));
  const [to, setTo] = useState("");
  const error = transfer.error ?? release.error ?? takeOver.error;
  const others = colleagues.data?.filter((c) => c.userId !== meId) ?? [];

  return (
    <>
      {holder && <span className="muted">With {holder.displayName}</span>}
      {mine && (
        <form
          className="row"
          aria-label="Transfer"
          onSubmit={(e) => {
            e.preventDefault();
            if (to) transfer.mutate({ requestId: request.id, toUserId: to });
          }}
        >
          <label>
            <span className="visually-hidden">Transfer to</span>
            <select value={to} onChange={(e) => setTo(e.target.value)} aria-label="Transfer to">
              <option value="">Transfer to…</option>
              {others.map((c) => (
                <option key={c.userId} value={c.userId} disabled={!c.acceptingChats}>
                  {c.displayName} ({c.openChats}/{c.maxConcurrentChats}
                  {c.acceptingChats ? "" : ", off duty"})
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={!to || transfer.isPending}>
            Transfer
          </button>
          <button type="button" onClick={() => release.mutate({ requestId: request.id })} disabled={release.isPending}>
            Release
          </button>
        </form>
      )}
      {me.data?.role === "admin" && request.status !== "resolved" && !mine && (
        <button type="button" onClick={() => takeOver.mutate({ requestId: request.id })} disabled={takeOver.isPending}>
          Take over
        </button>
      )}
      {error && (
        <p role="alert" className="error">
          {plainError(error)}
        </p>
      )}
    </>
  );
}

const said: Record<string, string> = {
  created: "opened the chat",
  claimed: "took the chat",
  auto_assigned: "was assigned the chat",
  transferred: "transferred the chat",
  released: "released the chat to the queue",
  taken_over: "took over the chat",
  resolved: "resolved the chat",
  reopened: "reopened the chat",
  note_added: "added a note",
};

/** Staff-only notes and the chat's timeline. Refreshed whenever the request's version moves. */
export function NotesAndTimeline({ request }: { request: ChatRequest }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const ids = { requestId: request.id };
  const notes = useQuery(trpc.staff.notes.queryOptions(ids));
  const timeline = useQuery(trpc.staff.timeline.queryOptions(ids));
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.staff.notes.queryKey(ids) });
    void queryClient.invalidateQueries({ queryKey: trpc.staff.timeline.queryKey(ids) });
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new version means a new timeline entry
  useEffect(refresh, [request.version]);
  const add = useMutation(trpc.staff.addNote.mutationOptions({ onSuccess: refresh }));
  const [text, setText] = useState("");

  return (
    <details className="floor-notes">
      <summary>Notes and timeline</summary>
      <section aria-label="Internal notes" className="stack">
        <ul>
          {notes.data?.map((n) => (
            <li key={n.id} className="note">
              <strong>{n.authorName}</strong> <span className="muted">{time.format(n.createdAt)}</span>: {n.text}
            </li>
          ))}
        </ul>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim()) add.mutate({ requestId: request.id, text }, { onSuccess: () => setText("") });
          }}
        >
          <label className="field">
            <span>Internal note (staff only)</span>
            <input value={text} onChange={(e) => setText(e.target.value)} maxLength={4000} />
          </label>
          <button type="submit" disabled={add.isPending || !text.trim()}>
            Add note
          </button>
        </form>
        {add.error && (
          <p role="alert" className="error">
            {plainError(add.error)}
          </p>
        )}
      </section>
      <section aria-label="Timeline">
        <ol className="timeline">
          {timeline.data?.map((e) => (
            <li key={e.id}>
              <span className="muted">{time.format(e.at)}</span>{" "}
              {e.type === "auto_assigned" ? e.targetName : (e.actorName ?? "Someone")} {said[e.type] ?? e.type}
              {e.type === "transferred" && e.targetName ? ` to ${e.targetName}` : ""}
              {e.type === "taken_over" && e.targetName ? ` from ${e.targetName}` : ""}
            </li>
          ))}
        </ol>
      </section>
    </details>
  );
}
