import type { ChatMessage, ChatRequest } from "@/db/schema";

/**
 * What a player may see of rows that staff see in full. Staff user ids never reach a player
 * (through a procedure, a route or the player's channel): they are account identifiers, and the
 * staff member's name on the message says all a player needs. Shapes stay the same (null).
 */
export function messageForPlayer(message: ChatMessage): ChatMessage {
  return message.sender === "player" ? message : { ...message, senderUserId: null };
}

export function requestForPlayer(request: ChatRequest): ChatRequest {
  return { ...request, assignedStaffId: null };
}

/** Any result carrying `message`, `messages` and/or `request`, as a player may see it. */
export function forPlayer<T extends { message?: ChatMessage; messages?: ChatMessage[]; request?: ChatRequest | null }>(
  result: T,
): T {
  return {
    ...result,
    ...(result.message ? { message: messageForPlayer(result.message) } : {}),
    ...(result.messages ? { messages: result.messages.map(messageForPlayer) } : {}),
    ...(result.request ? { request: requestForPlayer(result.request) } : {}),
  };
}
