"use client";

import { useState } from "react";
import { logOutOfOneSignal } from "../(staff)/staff/alerts/onesignal";
import { signOut } from "./session-api";

export function SignOutButton() {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="link-button"
      disabled={busy}
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
