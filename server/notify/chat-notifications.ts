import type { Db } from "@/db/client";
import type { ChatRequest } from "@/db/schema";
import type { ChatNotifications } from "../chat/actions";
import { viewingChannel } from "../chat/channels";
import type { RealtimeGateway } from "../chat/gateway";
import { staffAcceptingChats } from "../chat/push-targets";
import type { SendResult } from "../chat/send";
import {
  escalationNotification,
  newMessageNotification,
  newRequestNotification,
  withoutPlayerDetails,
} from "./messages";
import type { Notifier } from "./notifier";
import type { PushMessage } from "./onesignal";

/**
 * Who gets which push. Runs after the commit and off the send path: `playerMessage` returns at
 * once; the look-ups and the HTTP call happen in the background and can only log.
 */
export function createChatNotifications(deps: {
  db: Db;
  notifier: Notifier;
  realtime: RealtimeGateway;
  appUrl: string;
  /** A staff member's public id (push-identity.ts): OneSignal external id and presence member id. */
  pushIdOf: (staffUserId: string) => string;
  /** PUSH_SHOW_PLAYER_DETAILS: the player's name and words in the push; off by default. */
  showPlayerDetails?: boolean;
  log?: (msg: string) => void;
}): ChatNotifications & { idle(): Promise<void> } {
  const log = deps.log ?? ((msg: string) => console.error(msg));
  const enqueue = (message: PushMessage) =>
    deps.notifier.enqueue(deps.showPlayerDetails ? message : withoutPlayerDetails(message));
  const staffAccepting = async () => (await staffAcceptingChats(deps.db)).map(deps.pushIdOf);
  const preparing = new Set<Promise<void>>();
  const background = (work: () => Promise<void>) => {
    const running = work()
      .catch((err) => log(`[push] could not prepare a notification: ${err instanceof Error ? err.message : err}`))
      .finally(() => preparing.delete(running));
    preparing.add(running);
  };

  return {
    /** Resolves when every notification asked for so far has been prepared and sent (tests, shutdown). */
    async idle() {
      while (preparing.size > 0) await Promise.allSettled([...preparing]);
      await deps.notifier.idle();
    },

    playerMessage(result: SendResult) {
      if (!deps.notifier.stats().enabled) return;
      const { request, message } = result;
      const about = {
        requestId: request.id,
        playerId: request.playerId,
        playerName: request.playerName,
        appUrl: deps.appUrl,
      };
      background(async () => {
        if (result.openedRequest) {
          const staffExternalIds = await staffAccepting();
          if (staffExternalIds.length === 0) return;
          enqueue(newRequestNotification({ ...about, preview: message.messageText, staffExternalIds }));
          return;
        }
        const holder = request.status === "in_progress" ? request.assignedStaffId : null;
        if (!holder) return;
        // A staff member looking at this conversation right now needs no push about it.
        // (Presence member ids are public ids, as in pushes: see realtime-auth.ts.)
        const viewers = await deps.realtime.presenceUserIds(viewingChannel(request.playerId));
        if (viewers?.includes(deps.pushIdOf(holder))) return;
        enqueue(
          newMessageNotification({
            ...about,
            preview: message.messageText,
            staffExternalId: deps.pushIdOf(holder),
            messageId: message.id,
          }),
        );
      });
    },

    escalated(request: ChatRequest) {
      if (!deps.notifier.stats().enabled) return;
      background(async () => {
        const staffExternalIds = await staffAccepting();
        if (staffExternalIds.length === 0) return;
        const waitingSeconds = Math.round(
          ((request.escalatedAt ?? new Date()).getTime() - request.createdAt.getTime()) / 1000,
        );
        enqueue(
          escalationNotification({
            requestId: request.id,
            playerId: request.playerId,
            playerName: request.playerName,
            appUrl: deps.appUrl,
            waitingSeconds,
            preview: request.initialMessage,
            staffExternalIds,
          }),
        );
      });
    },
  };
}
