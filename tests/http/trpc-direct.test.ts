import { randomUUID } from "node:crypto";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import type { HttpDeps } from "@/server/http/deps";
import { trpcRoute } from "@/server/http/guarded-routes";
import { createTRPCContext } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/root";
import { openTestDb } from "../support/db";
import { APP, httpTestDeps, signInCookie } from "../support/http";

/**
 * trpc-direct.ts answers our clients' tRPC calls without tRPC's fetch adapter: every call here
 * goes to both, and the answers must be the same (status, content type, Vary, body), so the
 * clients cannot tell which one answered.
 */
describe("tRPC answered without the web Response (trpc-direct.ts) as tRPC's adapter answers", () => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let player: string;
  let staff: string;
  beforeAll(async () => {
    handle = await openTestDb("pglite");
    deps = await httpTestDeps(handle);
    [player, staff] = await Promise.all([
      signInCookie(deps, "player29@floorline.test"),
      signInCookie(deps, "asha@floorline.test"),
    ]);
  });
  afterAll(async () => {
    await handle?.close();
  });

  /** `as`: whose cookie it carries (the table is built before the sign-ins). */
  type Call = {
    path: string;
    method?: "GET" | "POST";
    as?: "player" | "staff";
    body?: string;
    headers?: Record<string, string>;
  };
  const build = (call: Call) =>
    new Request(`${APP}/api/trpc/${call.path}`, {
      method: call.method ?? "GET",
      headers: {
        origin: APP,
        ...(call.as ? { cookie: call.as === "player" ? player : staff } : {}),
        ...(call.body !== undefined ? { "content-type": "application/json" } : {}),
        ...call.headers,
      },
      body: call.body,
    });
  const reference = (request: Request) =>
    fetchRequestHandler({
      endpoint: "/api/trpc",
      req: request,
      router: appRouter,
      createContext: () => createTRPCContext({ headers: request.headers, deps }),
    });
  /** What a client can see of an answer; the stack trace (dev only) differs by where it was thrown. */
  const seen = async (response: Response) => ({
    status: response.status,
    type: response.headers.get("content-type"),
    vary: response.headers.get("vary"),
    // One JSON document, or one per line for a streamed batch.
    body: (await response.text())
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line, (key, value) => (key === "stack" ? "(stack)" : value))),
  });
  const same = async (call: Call) => {
    const expected = await seen(await reference(build(call)));
    const actual = await seen(await trpcRoute(build(call), deps));
    expect(actual).toEqual(expected);
    return actual;
  };
  const input = (value: unknown) => encodeURIComponent(JSON.stringify(value));

  it("answers a query and a mutation without a body stream (written as it is, no web stream read back)", async () => {
    const me = await trpcRoute(build({ path: "chat.me", as: "player" }), deps);
    expect(me.status).toBe(200);
    expect(me.body).toBeNull();
    const send = await trpcRoute(
      build({
        path: "chat.send",
        method: "POST",
        as: "player",
        body: JSON.stringify({ json: { id: randomUUID(), text: "hi" } }),
      }),
      deps,
    );
    expect(send.status).toBe(200);
    expect(send.body).toBeNull();
  });

  it.each<[string, Call, number]>([
    ["a query", { path: "chat.me", as: "player" }, 200],
    [
      "a query with its input in the URL",
      { path: `chat.history?input=${input({ json: { limit: 5 } })}`, as: "player" },
      200,
    ],
    ["anonymous: 401", { path: "chat.me" }, 401],
    ["the wrong role: 403", { path: "chat.me", as: "staff" }, 403],
    ["no such procedure: 404", { path: "chat.nothing", as: "player" }, 404],
    ["a mutation by GET: 405", { path: "chat.send", as: "player" }, 405],
    ["a query by POST: 405", { path: "chat.me", method: "POST", as: "player", body: "{}" }, 405],
    [
      "input zod refuses: 400 with field errors",
      { path: "chat.send", method: "POST", as: "player", body: JSON.stringify({ json: { id: "x", text: "" } }) },
      400,
    ],
    ["a body that is not JSON: 400", { path: "chat.send", method: "POST", as: "player", body: "{not json" }, 400],
    ["URL input that is not JSON: 400", { path: "chat.history?input=%7Bnope", as: "player" }, 400],
    ["a batch of queries", { path: `chat.me,chat.status?batch=1&input=${input({})}`, as: "player" }, 200],
    ["a batch with one refusal: 207", { path: `chat.me,staff.queue?batch=1&input=${input({})}`, as: "player" }, 207],
    // The queue's items carry the text Postgres wrote for them (server/chat/staff.ts): the same bytes.
    ["the staff queue", { path: "staff.queue", as: "staff" }, 200],
    ["the staff queue in a batch", { path: `staff.me,staff.queue?batch=1&input=${input({})}`, as: "staff" }, 200],
    [
      "a batch whose input is not an object: 400",
      { path: `chat.history?batch=1&input=${input([1])}`, as: "player" },
      400,
    ],
    ["a batch with a missing procedure", { path: `chat.me,nope.nothing?batch=1`, as: "player" }, 207],
    ["a mixed batch (tRPC's adapter)", { path: `chat.me,chat.send?batch=1`, as: "player" }, 400],
    ["a path it cannot decode (tRPC's adapter)", { path: "chat.%E0%A4%A", as: "player" }, 400],
    [
      "a streamed batch (tRPC's adapter)",
      { path: "chat.me?batch=1", as: "player", headers: { "trpc-accept": "application/jsonl" } },
      200,
    ],
  ])("%s", async (_, call, status) => {
    expect((await same(call)).status).toBe(status);
  });

  it("a batched send, and its retry with the same id", async () => {
    const id = randomUUID();
    const body = JSON.stringify({ 0: { json: { id, text: "batched" } } });
    const first = await trpcRoute(build({ path: "chat.send?batch=1", method: "POST", as: "player", body }), deps);
    expect(first.status).toBe(200);
    // Both answer the retry from the stored row.
    const retry = await same({ path: "chat.send?batch=1", method: "POST", as: "player", body });
    expect(retry.body[0][0].result.data.json.message.id).toBe(id);
  });
});
