const HERE = "http://floorline.invalid";

/**
 * `?next=` as a path on this site, or undefined. Read with the URL parser browsers use, not by
 * prefix: `/\evil.example` and `/<tab>/evil.example` start with one slash, yet a browser goes to
 * evil.example (it reads `\` as `/` and drops tabs and newlines), an open redirect.
 */
export function sameSiteNext(next: string | undefined) {
  if (!next?.startsWith("/")) return undefined;
  try {
    const url = new URL(next, HERE);
    return url.origin === HERE ? `${url.pathname}${url.search}${url.hash}` : undefined;
  } catch {
    return undefined;
  }
}
