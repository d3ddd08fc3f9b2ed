"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { cannedReplyInput } from "@/protocol/inputs";
import { useTRPC } from "../_trpc/client";
import { plainError } from "../_trpc/plain-error";
import { useHydrated } from "../_ui/use-hydrated";

/** Admins write the canned replies staff insert with `/` in the composer. */
export function CannedRepliesPanel() {
  const trpc = useTRPC();
  // Before hydration a submit would be the browser's own (a GET to /admin with the text in the URL).
  const hydrated = useHydrated();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.staff.cannedReplies.queryOptions());
  const [error, setError] = useState<string | null>(null);
  const options = {
    onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.staff.cannedReplies.queryKey() }),
    onError: (e: unknown) => setError(plainError(e)),
  };
  const create = useMutation(trpc.admin.createCannedReply.mutationOptions(options));
  const update = useMutation(trpc.admin.updateCannedReply.mutationOptions(options));
  const remove = useMutation(trpc.admin.deleteCannedReply.mutationOptions(options));

  function read(form: HTMLFormElement) {
    const data = new FormData(form);
    const parsed = cannedReplyInput.safeParse({ title: data.get("title"), body: data.get("body") });
    if (!parsed.success) setError(parsed.error.issues[0]?.message ?? "Check the form");
    else setError(null);
    return parsed.success ? parsed.data : null;
  }

  return (
    <section className="card stack" aria-labelledby="canned-heading">
      <h2 id="canned-heading">Canned replies</h2>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <form
        className="stack"
        aria-label="New canned reply"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const input = read(e.currentTarget);
          if (input) create.mutate(input, { onSuccess: () => (e.target as HTMLFormElement).reset() });
        }}
      >
        <label className="field">
          <span>Title</span>
          <input name="title" required />
        </label>
        <label className="field">
          <span>Reply</span>
          <textarea name="body" rows={2} required />
        </label>
        <button type="submit" disabled={!hydrated}>
          Add canned reply
        </button>
      </form>
      <ul className="stack">
        {list.data?.map((c) => (
          <li key={`${c.id}:${c.updatedAt.toString()}`}>
            <form
              className="row wrap"
              aria-label={`Canned reply ${c.title}`}
              noValidate
              onSubmit={(e) => {
                e.preventDefault();
                const input = read(e.currentTarget);
                if (input) update.mutate({ ...input, id: c.id });
              }}
            >
              <input name="title" aria-label="Title" defaultValue={c.title} />
              <textarea name="body" aria-label="Reply" rows={2} defaultValue={c.body} />
              <button type="submit" disabled={!hydrated}>
                Save
              </button>
              <button type="button" disabled={!hydrated} onClick={() => remove.mutate({ id: c.id })}>
                Delete
              </button>
            </form>
          </li>
        ))}
      </ul>
    </section>
  );
}
