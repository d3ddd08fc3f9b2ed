"use client";

import { useEffect, useId, useRef, useState } from "react";
import { MAX_MESSAGE_LENGTH } from "@/protocol/limits";
import { type CannedReply, useCannedPicker } from "./canned-picker";

const SHOW_COUNT_FROM = MAX_MESSAGE_LENGTH - 200;
const format = (n: number) => n.toLocaleString("en-IN");

const MAX_LINES = 6;
const draftKey = (key: string) => `floorline.draft.${key}`;

/**
 * Enter sends, Shift+Enter starts a new line; the limit shows as the text nears it; the box grows
 * to about six lines. The textarea is uncontrolled so that text typed on a slow phone before the
 * page has hydrated is kept, not reset to the server-rendered empty value. A half-typed message
 * is kept per thread (`draftKey`) in localStorage, so a reload or a sign-in round trip keeps it.
 */
export function Composer(props: {
  onSend: (text: string) => void;
  onTyping?: () => void;
  disabled?: boolean;
  placeholder?: string;
  /** Staff: `/` opens these (canned-picker.tsx). */
  cannedReplies?: CannedReply[];
  /** Which thread's draft this is ("player-…", "staff-…-request"); no key, no draft kept. */
  draftKey?: string;
}) {
  const box = useRef<HTMLTextAreaElement>(null);
  const [length, setLength] = useState(0);
  const counterId = useId();
  const tooLong = length > MAX_MESSAGE_LENGTH;
  const canSend = length > 0 && !tooLong && !props.disabled;
  const picker = useCannedPicker(box, props.cannedReplies);

  const { draftKey: key } = props;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    if (key && !el.value) el.value = readDraft(key);
    setLength(el.value.trim().length);
    grow(el);
  }, [key]);

  function send() {
    const text = box.current?.value.trim() ?? "";
    if (!text || text.length > MAX_MESSAGE_LENGTH || props.disabled || !box.current) return;
    props.onSend(text);
    box.current.value = "";
    setLength(0);
    grow(box.current);
    if (key) writeDraft(key, "");
  }

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {picker.list}
      <textarea
        ref={box}
        {...(props.cannedReplies ? picker.comboboxProps : {})}
        aria-label="Message"
        aria-describedby={counterId}
        aria-invalid={tooLong}
        rows={1}
        placeholder={props.placeholder ?? "Write a message"}
        onInput={(e) => {
          setLength(e.currentTarget.value.trim().length);
          picker.onInput(e.currentTarget.value);
          grow(e.currentTarget);
          if (key) writeDraft(key, e.currentTarget.value);
          props.onTyping?.();
        }}
        onKeyDown={(e) => {
          if (picker.onKeyDown(e)) return;
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <div className="composer-side">
        <span id={counterId} className={tooLong ? "counter error" : "counter"} aria-live="polite">
          {tooLong
            ? `Too long: ${format(length)} / ${format(MAX_MESSAGE_LENGTH)}`
            : length >= SHOW_COUNT_FROM
              ? `${format(length)} / ${format(MAX_MESSAGE_LENGTH)}`
              : ""}
        </span>
        <button type="submit" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}

/** Fits the box to its text, up to MAX_LINES; beyond that it scrolls. */
function grow(el: HTMLTextAreaElement) {
  const style = getComputedStyle(el);
  const line = Number.parseFloat(style.lineHeight) || 20;
  const chrome = Number.parseFloat(style.paddingTop) + Number.parseFloat(style.paddingBottom) + 2;
  el.style.height = "auto";
  el.style.height = `${Math.min(el.scrollHeight + 2, line * MAX_LINES + chrome)}px`;
}

function readDraft(key: string) {
  try {
    return localStorage.getItem(draftKey(key)) ?? "";
  } catch {
    return "";
  }
}

function writeDraft(key: string, text: string) {
  try {
    if (text.trim()) localStorage.setItem(draftKey(key), text);
    else localStorage.removeItem(draftKey(key));
  } catch {
    // Storage full or blocked: the draft simply is not kept.
  }
}
