/**
 * The two session calls the portals make, as plain requests to better-auth's endpoints: its
 * client library (~12 KB gzipped with its store) stays on the sign-in page, off the phone's
 * player page.
 */
export async function sessionIsGone(): Promise<boolean | null> {
  try {
    const res = await fetch("/api/auth/get-session", { credentials: "same-origin", cache: "no-store" });
    if (!res.ok) return null;
    const body = (await res.json()) as unknown;
    return body === null;
  } catch {
    return null; // could not tell
  }
}

export async function signOut() {
  await fetch("/api/auth/sign-out", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: "{}",
  }).catch(() => undefined);
}
