"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { accountRoles, createAccountInput } from "@/protocol/inputs";
import { useTRPC } from "../_trpc/client";
import { plainError } from "../_trpc/plain-error";
import { useHydrated } from "../_ui/use-hydrated";

/** Create staff and player accounts (temporary password shown once) and set staff capacity. */
export function AccountsPanel() {
  const trpc = useTRPC();
  const hydrated = useHydrated();
  const queryClient = useQueryClient();
  const accounts = useQuery(trpc.admin.accounts.queryOptions());
  const [error, setError] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.admin.accounts.queryKey() });
  const create = useMutation(
    trpc.admin.createAccount.mutationOptions({ onSuccess: refresh, onError: (e) => setError(plainError(e)) }),
  );
  const capacity = useMutation(
    trpc.admin.setCapacity.mutationOptions({ onSuccess: refresh, onError: (e) => setError(plainError(e)) }),
  );
  const deactivation = useMutation(
    trpc.admin.setDeactivated.mutationOptions({ onSuccess: refresh, onError: (e) => setError(plainError(e)) }),
  );

  function onCreate(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const id = String(form.get("playerId") ?? "").trim();
    const parsed = createAccountInput.safeParse({
      role: form.get("role"),
      email: form.get("email"),
      name: form.get("name"),
      ...(id ? { playerId: id } : {}),
    });
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? "Check the form");
      return;
    }
    setError(null);
    create.mutate(parsed.data);
  }

  return (
    <section className="card stack" aria-labelledby="accounts-heading">
      <h2 id="accounts-heading">Accounts</h2>
      <form className="row wrap" onSubmit={onCreate} noValidate aria-label="Create account">
        <label className="field">
          <span>Role</span>
          <select name="role" defaultValue="staff">
            {accountRoles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Name</span>
          <input name="name" required />
        </label>
        <label className="field">
          <span>Email</span>
          <input name="email" type="email" required />
        </label>
        <label className="field">
          <span>Player ID (players; blank = next free)</span>
          <input name="playerId" inputMode="numeric" />
        </label>
        <button type="submit" disabled={!hydrated || create.isPending}>
          Create account
        </button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {create.data?.temporaryPassword && (
        <p role="status">
          Created {create.data.email}
          {create.data.playerId ? ` (Player ID ${create.data.playerId})` : ""}. Temporary password:{" "}
          <code data-testid="temporary-password">{create.data.temporaryPassword}</code> — shown once; it must be changed
          at first sign-in.
        </p>
      )}
      <table>
        <caption className="visually-hidden">All accounts</caption>
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Player ID</th>
            <th scope="col">Capacity</th>
            <th scope="col">Access</th>
          </tr>
        </thead>
        <tbody>
          {accounts.data?.map((a) => (
            <tr key={a.userId}>
              <td>{a.email}</td>
              <td>{a.name}</td>
              <td>{a.role}</td>
              <td>{a.playerId ?? ""}</td>
              <td>
                {a.maxConcurrentChats !== null && (
                  <input
                    type="number"
                    min={0}
                    max={50}
                    aria-label={`Capacity of ${a.name}`}
                    disabled={!hydrated}
                    defaultValue={a.maxConcurrentChats}
                    onBlur={(e) => {
                      const value = Number(e.target.value);
                      if (value !== a.maxConcurrentChats)
                        capacity.mutate({ userId: a.userId, maxConcurrentChats: value });
                    }}
                  />
                )}
              </td>
              <td>
                {a.deactivatedAt ? "Deactivated " : ""}
                <button
                  type="button"
                  className="link-button"
                  disabled={!hydrated || deactivation.isPending}
                  onClick={() => {
                    const deactivated = !a.deactivatedAt;
                    if (deactivated && !window.confirm(`Deactivate ${a.email}? Their sessions end now.`)) return;
                    deactivation.mutate({ userId: a.userId, deactivated });
                  }}
                >
                  {a.deactivatedAt ? `Reactivate ${a.name}` : `Deactivate ${a.name}`}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
