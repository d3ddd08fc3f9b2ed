import { defaultShouldDehydrateQuery, QueryClient } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import { decodeDehydrated, encodeDehydrated } from "./dehydrated-data";

/** Errors that another try cannot fix: retrying them only delays the message the user needs. */
const FINAL_CODES = new Set([
  "UNAUTHORIZED",
  "FORBIDDEN",
  "BAD_REQUEST",
  "NOT_FOUND",
  "CONFLICT",
  // Photos (app/_chat/photo-upload.ts): too large, or not an image we take.
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
]);

export function isFinalError(error: unknown) {
  return error instanceof TRPCClientError && FINAL_CODES.has(error.data?.code);
}

export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Realtime events keep caches fresh; refetching on every focus would only add load.
        staleTime: 30_000,
        // In the browser, until it works (back-off capped at 30 s): a page opened during an outage
        // must not stay empty (the player's own record decides which channel to listen on). On the
        // server, not at all: the page renders at once and the browser takes over the fetch.
        retry: (_failureCount, error) => typeof window !== "undefined" && !isFinalError(error),
      },
      mutations: {
        retry: (failureCount, error) => !isFinalError(error) && failureCount < 3,
      },
      // What a page prefetched travels to the browser as one string (dehydrated-data.ts says why).
      dehydrate: {
        serializeData: encodeDehydrated,
        shouldDehydrateQuery: (query) => defaultShouldDehydrateQuery(query) || query.state.status === "pending",
      },
      hydrate: { deserializeData: decodeDehydrated },
    },
  });
}
