/**
 * This tab's realtime socket id, sent with every tRPC call so the server leaves this tab out
 * of the fan-out of its own changes (it already has the result). Module state: one per tab.
 */
let currentSocketId: string | null = null;

export const setCurrentSocketId = (id: string | null) => {
  currentSocketId = id;
};
export const getCurrentSocketId = () => currentSocketId;
