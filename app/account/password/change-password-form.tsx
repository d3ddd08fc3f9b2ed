"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { changePasswordInput } from "@/protocol/inputs";
import { useTRPC } from "../../_trpc/client";
import { plainError } from "../../_trpc/plain-error";
import { useHydrated } from "../../_ui/use-hydrated";

export function ChangePasswordForm({ next }: { next: string }) {
  const trpc = useTRPC();
  const [error, setError] = useState<string | null>(null);
  const hydrated = useHydrated();
  const change = useMutation(
    trpc.account.changePassword.mutationOptions({
      onSuccess: () => window.location.assign(next),
      onError: (e) => setError(plainError(e)),
    }),
  );

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    if (form.get("newPassword") !== form.get("repeat")) {
      setError("The new passwords do not match");
      return;
    }
    const parsed = changePasswordInput.safeParse({
      currentPassword: form.get("currentPassword"),
      newPassword: form.get("newPassword"),
    });
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? "Check the form");
      return;
    }
    setError(null);
    change.mutate(parsed.data);
  }

  return (
    <form className="card stack" onSubmit={onSubmit} noValidate>
      <label className="field">
        <span>Temporary password</span>
        <input name="currentPassword" type="password" autoComplete="current-password" required />
      </label>
      <label className="field">
        <span>New password</span>
        <input name="newPassword" type="password" autoComplete="new-password" minLength={10} required />
      </label>
      <label className="field">
        <span>Repeat new password</span>
        <input name="repeat" type="password" autoComplete="new-password" required />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit" disabled={change.isPending || !hydrated}>
        {change.isPending ? "Saving…" : "Save password"}
      </button>
    </form>
  );
}
