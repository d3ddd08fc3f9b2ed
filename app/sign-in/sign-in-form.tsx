"use client";

import { useState } from "react";
import { z } from "zod";
import { authClient } from "../_auth/auth-client";
import { useHydrated } from "../_ui/use-hydrated";

const credentials = z.object({
  email: z.email({ error: "Enter your email address" }),
  password: z.string().min(1, { error: "Enter your password" }),
});

export function SignInForm({ next }: { next?: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const hydrated = useHydrated();

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const parsed = credentials.safeParse({ email: form.get("email"), password: form.get("password") });
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? "Check the form");
      return;
    }
    setBusy(true);
    setError(null);
    const result = await authClient.signIn.email(parsed.data);
    if (result.error) {
      setBusy(false);
      setError(
        result.error.status === 429
          ? "Too many attempts. Wait a minute and try again."
          : result.error.status === 401
            ? "Wrong email or password."
            : // better-auth's other answers are for developers: say it plainly.
              "Sign-in failed. Try again in a moment.",
      );
      return;
    }
    // A full navigation so the server renders the portal with the new session cookie.
    window.location.assign(next ?? "/");
  }

  return (
    <form className="card stack" onSubmit={onSubmit} noValidate>
      <label className="field">
        <span>Email</span>
        <input name="email" type="email" autoComplete="username" required />
      </label>
      <label className="field">
        <span>Password</span>
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy || !hydrated}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
