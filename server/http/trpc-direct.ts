import { getErrorShape, getTRPCErrorFromUnknown, TRPCError, transformTRPCResponse } from "@trpc/server";
import { getHTTPStatusCode } from "@trpc/server/http";
// tRPC's own tests of a value, so both paths refuse the same answers.
import { type AnyProcedure, isAsyncIterable, isObject, isPromise } from "@trpc/server/unstable-core-do-not-import";
import { serializedText } from "@/protocol/transformer";
import type { Context } from "../trpc/init";
import { appRouter } from "../trpc/root";
import { urlOf } from "./buffered-request";
import { JsonText } from "./handler";
import { mediaTypeOf } from "./same-origin";

/**
 * tRPC's HTTP protocol for the calls our clients make — one procedure, or a batch (`?batch=1`),
 * of queries (GET) or mutations (POST, JSON), answered as one JSON document — without the web
 * `Response` tRPC's fetch adapter builds. That adapter (`resolveResponse`) encodes its answer into
 * a web body stream, which node-bridge.ts then reads back, and makes three AbortControllers per
 * call: about a sixth of a send's web CPU (issue 11, bench/README.md "tRPC without the web
 * Response"). The answer is a JsonText, which node-bridge.ts writes as it is.
 *
 * It follows `resolveResponse` of @trpc/server 11 step by step for what it answers (the same
 * statuses, error shapes through the router's errorFormatter, bodies; tests/http/trpc-direct.test.ts
 * compares the two on every kind of call and refusal), and answers null for the rest — streamed
 * batches (`trpc-accept: application/jsonl`), subscriptions, mixed batches, connection params, a
 * path it cannot decode — which the caller then hands to tRPC's own adapter.
 */
export async function answerTrpc(
  request: Pick<Request, "method" | "url" | "headers" | "json">,
  opts: { endpoint: string; createContext: () => Promise<Context> },
): Promise<JsonText | null> {
  const { method, headers } = request;
  if (method !== "GET" && method !== "POST") return null;
  if (headers.get("trpc-accept") !== null || acceptsJsonLines(headers.get("accept"))) return null;
  // tRPC reads a GET's input from the URL whatever its content type; a POST's only from JSON.
  if (method === "POST" && mediaTypeOf(headers.get("content-type")) !== "application/json") return null;
  const url = urlOf(request);
  if (url.searchParams.has("connectionParams")) return null;
  let path: string;
  try {
    path = decodeURIComponent(trimSlashes(trimSlashes(url.pathname).slice(trimSlashes(opts.endpoint).length)));
  } catch {
    return null;
  }
  const isBatch = url.searchParams.get("batch") === "1";
  const paths = isBatch ? path.split(",") : [path];
  const procedures = paths.map((p) => byPath[p]);
  const types = new Set(procedures.map((p) => p?._def.type).filter(Boolean));
  if (types.has("subscription") || types.size > 1) return null;
  const config = appRouter._def._config;

  // The body is parsed once, when the first call asks for its input (as tRPC does).
  let inputs: Promise<Record<number, unknown>> | undefined;
  let parsed: Record<number, unknown> | undefined;
  const readInputs = () => {
    inputs ??= (async () => {
      const raw = method === "GET" ? parseQueryInput(url.searchParams.get("input")) : await request.json();
      const result: Record<number, unknown> = Object.create(null);
      if (raw === undefined) return result;
      if (!isBatch) result[0] = config.transformer.input.deserialize(raw);
      else {
        if (!isObject(raw)) {
          throw new TRPCError({
            code: "BAD_REQUEST",
            message: '"input" needs to be an object when doing a batch call',
          });
        }
        for (const index of paths.keys()) {
          const input = (raw as Record<number, unknown>)[index];
          if (input !== undefined) result[index] = config.transformer.input.deserialize(input);
        }
      }
      return result;
    })().catch((cause) => {
      if (cause instanceof TRPCError) throw cause;
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: cause instanceof Error ? cause.message : "Invalid input",
        cause,
      });
    });
    return inputs.then((value) => {
      parsed = value;
      return value;
    });
  };

  let ctx: Context | undefined;
  let ctxError: TRPCError | undefined;
  try {
    ctx = await opts.createContext();
  } catch (cause) {
    ctxError = getTRPCErrorFromUnknown(cause);
  }
  const results = await Promise.all(
    paths.map(async (callPath, index) => {
      const procedure = procedures[index];
      try {
        if (!procedure) throw new TRPCError({ code: "NOT_FOUND", message: `No procedure found on path "${callPath}"` });
        const accepted = procedure._def.type === "mutation" ? "POST" : "GET";
        if (method !== accepted) {
          throw new TRPCError({
            code: "METHOD_NOT_SUPPORTED",
            message: `Unsupported ${method}-request to ${procedure._def.type} procedure at path "${callPath}"`,
          });
        }
        // As in tRPC: a context that failed fails each call only after its path and method checks.
        if (ctxError) throw ctxError;
        const data = await procedure({
          path: callPath,
          getRawInput: async () => (await readInputs())[index],
          ctx,
          type: procedure._def.type,
          signal: undefined,
          batchIndex: index,
        });
        if (isDataStream(data)) {
          throw new TRPCError({
            code: "UNSUPPORTED_MEDIA_TYPE",
            message: "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink",
          });
        }
        return { result: { data } };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        const input = parsed?.[index];
        return {
          error: getErrorShape({ config, ctx, error, input, path: callPath, type: procedure?._def.type ?? "unknown" }),
        };
      }
    }),
  );
  const status = getHTTPStatusCode(results);
  // What JSON.stringify(transformTRPCResponse(config, …)) writes, item by item, with a value's
  // serialized text written as it is when its maker gave one (protocol/transformer.ts).
  const item = (r: (typeof results)[number]) =>
    r.result
      ? `{"result":{"data":${serializedText(r.result.data)}}}`
      : JSON.stringify(transformTRPCResponse(config, r));
  const body = isBatch ? `[${results.map(item).join(",")}]` : item(results[0] as (typeof results)[number]);
  return new JsonText(body, status, { vary: "trpc-accept, accept" });
}

/** Every procedure by its dotted path (tRPC keeps them flat, in an object without a prototype). */
const byPath = appRouter._def.procedures as unknown as Record<string, AnyProcedure | undefined>;

const trimSlashes = (path: string) => path.replace(/^\//, "").replace(/\/$/, "");

function acceptsJsonLines(accept: string | null) {
  return accept?.split(",").some((type) => type.trim() === "application/jsonl") ?? false;
}

function parseQueryInput(input: string | null): unknown {
  return input ? JSON.parse(input) : undefined;
}

/** What tRPC refuses to answer without streaming: an async iterable, or an object holding promises. */
function isDataStream(value: unknown) {
  if (!isObject(value)) return false;
  if (isAsyncIterable(value)) return true;
  return Object.values(value).some(isPromise) || Object.values(value).some(isAsyncIterable);
}
