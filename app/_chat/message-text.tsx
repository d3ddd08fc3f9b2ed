import { useId } from "react";
import type { ChatMessage } from "@/db/schema";

// http(s) only: a "javascript:" or "data:" URL typed into a message stays text.
const URL_PATTERN = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])/g;

/** Message text with its web addresses as links that open apart from the portal. */
export function MessageText({ text }: { text: string }) {
  const parts = text.split(URL_PATTERN);
  return (
    <p className="text" dir="auto">
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one text never reorder
          <a key={i} href={part} target="_blank" rel="noopener noreferrer">
            {part}
          </a>
        ) : (
          part
        ),
      )}
    </p>
  );
}

/**
 * Time as read in the thread ("07:05 pm"); the full date and time in a tooltip on hover and on
 * keyboard focus (a `title` shows to neither a keyboard nor a phone), and as its description.
 * One time of a thread is `tabbable`; the list moves focus between them with the arrow keys.
 */
export function MessageTime({ at, tabbable = true }: { at: Date | string; tabbable?: boolean }) {
  const d = new Date(at);
  const tipId = useId();
  return (
    <span className="time-tip">
      {/* Focusable: focus is how a keyboard reaches the full date. */}
      <time dateTime={d.toISOString()} tabIndex={tabbable ? 0 : -1} aria-describedby={tipId} suppressHydrationWarning>
        {d.toLocaleTimeString("en-IN", { hour: "2-digit", minute: "2-digit" })}
      </time>
      <span role="tooltip" id={tipId} suppressHydrationWarning>
        {d.toLocaleString("en-IN", { dateStyle: "full", timeStyle: "short" })}
      </span>
    </span>
  );
}

/**
 * The divider that goes before `m`, if any: a new day ("Today", "Yesterday", a date) and a new
 * chat of the same player. Server and browser may sit in different time zones: the browser's wins.
 */
export function dividerBefore(m: ChatMessage, previous: ChatMessage | undefined, now = new Date()): string | null {
  const day = dayLabel(new Date(m.timestamp), now);
  if (!previous || dayLabel(new Date(previous.timestamp), now) !== day) return day;
  if (previous.requestId !== m.requestId) return "New chat";
  return null;
}

function dayLabel(d: Date, now: Date) {
  const startOf = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((startOf(now) - startOf(d)) / 86_400_000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return d.toLocaleDateString("en-IN", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}
