"use client";

import { useState } from "react";
import { useHydrated } from "../_ui/use-hydrated";
import { logOutOfOneSignal } from "../(staff)/staff/alerts/onesignal";
import { signOut } from "./session-api";
import { signInAgainHref, useSignedOut } from "./signed-out";

/** The header's account control: "Sign out", or once the session is gone, the way back in. */
export function SignOutButton() {
  const [busy, setBusy] = useState(false);
  const hydrated = useHydrated();
  if (useSignedOut()) {
    return (
      <a className="error signed-out" href={signInAgainHref()}>
        Signed out — sign in again
      </a>
    );
  }
  return (
    <button
      type="button"
      className="link-button"
      disabled={busy || !hydrated}
      onClick={async () => {
        setBusy(true);
        await logOutOfOneSignal();
        await signOut();
        // A full load drops every cached query of the previous user.
        window.location.assign("/sign-in");
      }}
    >
      Sign out
    </button>
  );
}
