"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { useTRPC } from "../../../_trpc/client";

const when = new Intl.DateTimeFormat("en-IN", { dateStyle: "medium", timeStyle: "short" });

/**
 * Staff search over past chats (staff.search): a Player ID, a player's name or words of a message.
 * The query lives in the URL, so a search survives a reload and Back returns to it; older hits
 * load page by page with the server's cursor, passed back untouched (it is exact to the microsecond).
 */
export function SearchView() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const q = useSearchParams().get("q")?.trim() ?? "";
  const [text, setText] = useState(q);
  const results = useInfiniteQuery({
    ...trpc.staff.search.infiniteQueryOptions({ q, limit: 20 }, { getNextPageParam: (page) => page.next }),
    enabled: q.length > 0,
  });
  const hits = results.data?.pages.flatMap((page) => page.hits) ?? [];

  return (
    <>
      <search>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            const next = text.trim();
            router.push(next ? `${pathname}?q=${encodeURIComponent(next)}` : pathname);
          }}
        >
          <label className="field">
            <span>Player ID, name or words</span>
            <input
              type="search"
              value={text}
              onChange={(e) => setText(e.target.value)}
              maxLength={100}
              aria-label="Search past chats"
            />
          </label>
          <button type="submit">Search</button>
        </form>
      </search>
      {results.isError && (
        <p role="alert" className="error">
          {results.error.message}
        </p>
      )}
      {q && results.isSuccess && (
        <p role="status">{hits.length === 0 ? `Nothing found for “${q}”.` : `Results for “${q}”, newest first`}</p>
      )}
      <ul className="search-results stack" aria-label="Search results">
        {hits.map((hit) => (
          <li key={hit.id}>
            <Link href={`/staff?request=${hit.requestId}`}>
              <strong>
                {hit.playerName} · Player ID {hit.playerId}
              </strong>{" "}
              <span className="muted">
                {when.format(hit.timestamp)} · {hit.senderName}
              </span>
              <br />
              {hit.messageText}
            </Link>
          </li>
        ))}
      </ul>
      {results.hasNextPage && (
        <button type="button" onClick={() => void results.fetchNextPage()} disabled={results.isFetchingNextPage}>
          {results.isFetchingNextPage ? "Loading…" : "Show older results"}
        </button>
      )}
    </>
  );
}
