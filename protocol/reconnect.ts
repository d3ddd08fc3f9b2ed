/**
 * How a client checks for the realtime server after losing it: the browser's reconnect
 * (app/_realtime/reconnect.ts) and the bench's storm clients, which behave as the portals do
 * (bench/scenarios.ts), both wait these delays.
 *
 * `npm start` restarts a dead realtime server after 0.5 s and its bundle answers 0.4–1.6 s later
 * (bench/README.md, "starts and restarts"): a crash is usually over within about 2 s. So the first
 * checks come every 0.5 s, leaving at most about that between the server answering again and the
 * pages coming back (a 1 s, then 2 s, back-off left up to 2.4 s, the longest part of a reconnect
 * storm after the web's own work), at the cost of four refused sockets per page while it is down.
 * A longer outage backs off as before, to every 5 s. Each delay is ±20 %, so a floor of pages does
 * not come back in step.
 */
const EARLY_MS = 500;
const EARLY_CHECKS = 4;
const MAX_MS = 5000;

/** The wait before check number `attempt` (0, 1, …) since the connection was lost. */
export function reconnectCheckDelayMs(attempt: number, random: () => number = Math.random) {
  const base = attempt < EARLY_CHECKS ? EARLY_MS : Math.min(MAX_MS, 1000 * 2 ** (attempt - EARLY_CHECKS));
  return base * (0.8 + random() * 0.4);
}
