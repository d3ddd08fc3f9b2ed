"use client";

import { useEffect, useId, useRef, useState } from "react";
import { MAX_MESSAGE_LENGTH } from "@/protocol/inputs";
import { type CannedReply, useCannedPicker } from "./canned-picker";

const SHOW_COUNT_FROM = MAX_MESSAGE_LENGTH - 200;
const format = (n: number) => n.toLocaleString("en-IN");

/**
 * Enter sends, Shift+Enter starts a new line; the limit shows as the text nears it.
 * The textarea is uncontrolled so that text typed on a slow phone before the page has
 * hydrated is kept, not reset to the server-rendered empty value.
 */
export function Composer(props: {
  onSend: (text: string) => void;
  onTyping?: () => void;
  disabled?: boolean;
  placeholder?: string;
  /** Staff: `/` opens these (canned-picker.tsx). */
  cannedReplies?: CannedReply[];
}) {
  const box = useRef<HTMLTextAreaElement>(null);
  const [length, setLength] = useState(0);
  const counterId = useId();
  const tooLong = length > MAX_MESSAGE_LENGTH;
  const canSend = length > 0 && !tooLong && !props.disabled;
  const picker = useCannedPicker(box, props.cannedReplies);

  useEffect(() => {
    setLength(box.current?.value.trim().length ?? 0);
  }, []);

  function send() {
    const text = box.current?.value.trim() ?? "";
    if (!text || text.length > MAX_MESSAGE_LENGTH || props.disabled || !box.current) return;
    props.onSend(text);
    box.current.value = "";
    setLength(0);
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
        rows={2}
        placeholder={props.placeholder ?? "Write a message"}
        onInput={(e) => {
          setLength(e.currentTarget.value.trim().length);
          picker.onInput(e.currentTarget.value);
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
