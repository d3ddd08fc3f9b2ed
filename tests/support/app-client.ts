import type PusherClient from "pusher-js";
import { pusherGateway } from "@/server/chat/gateway";
import type { HttpDeps } from "@/server/http/deps";
import { authenticateUser, authorizeChannel } from "@/server/realtime-auth";
import { openTestDb, type TestDbKind } from "./db";
import { APP, httpTestDeps } from "./http";
import { pusherJs, type Running, startRealtime } from "./realtime";

/** pusher-js whose authorizers are the app's own route handlers, called with a session cookie. */
export function appPusherClient(rt: Running, deps: HttpDeps, cookie: string | null): PusherClient {
  const viaApp =
    (handler: typeof authorizeChannel, path: string) =>
    async <T>(form: Record<string, string>, callback: (error: Error | null, body: T | null) => void) => {
      const response = await handler(
        deps,
        new Request(`${APP}${path}`, {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            origin: APP,
            ...(cookie ? { cookie } : {}),
          },
          body: new URLSearchParams(form).toString(),
        }),
      );
      const body = await response.json();
      if (response.ok) callback(null, body as T);
      else callback(new Error(`${response.status} ${body.error.message}`), null);
    };
  const channelAuth = viaApp(authorizeChannel, "/api/realtime/auth");
  const userAuth = viaApp(authenticateUser, "/api/realtime/user-auth");
  return pusherJs(rt, {
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) =>
        channelAuth({ socket_id: socketId, channel_name: channelName }, callback),
    },
    userAuthentication: {
      customHandler: ({ socketId }, callback) => userAuth({ socket_id: socketId }, callback),
    },
  });
}

/** Resolves once the server has the socket signed in (pusher:signin_success). */
export function signedIn(client: PusherClient) {
  client.signin();
  return (client.user as unknown as { signinDonePromise: Promise<void> }).signinDonePromise;
}

/** The close code pusher-js reports when the server ends the connection. */
export function closedWith(client: PusherClient) {
  return new Promise<number | undefined>((resolve) => {
    client.connection.bind("error", (event: { type?: string; data?: { code?: number } }) => {
      if (event?.type === "PusherError") resolve(event.data?.code);
    });
  });
}

/**
 * The app's route handlers over a test database, publishing to our realtime server, and a way
 * to open app-authorized pusher-js clients; all closed by `close()`.
 */
export async function appWithRealtime(kind: TestDbKind) {
  const handle = await openTestDb(kind);
  const rt = await startRealtime();
  const deps = await httpTestDeps(handle, { publisher: rt.sdk, realtime: pusherGateway(rt.sdk) });
  const clients: PusherClient[] = [];
  return {
    handle,
    rt,
    deps,
    client(cookie: string | null) {
      const client = appPusherClient(rt, deps, cookie);
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.disconnect();
      await rt.close();
      await handle.close();
    },
  };
}
