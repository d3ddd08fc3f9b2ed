"use client";

import { useId, useState } from "react";
import { MAX_MESSAGE_LENGTH } from "@/server/chat/inputs";

const SHOW_COUNT_FROM = MAX_MESSAGE_LENGTH - 200;

/** Enter sends, Shift+Enter starts a new line; the limit shows as the text nears it. */
export function Composer(props: {
  onSend: (text: string) => void;
  onTyping?: () => void;
  disabled?: boolean;
  placeholder?: string;
}) {
  const [text, setText] = useState("");
  const counterId = useId();
  const trimmed = text.trim();
  const tooLong = trimmed.length > MAX_MESSAGE_LENGTH;
  const canSend = trimmed.length > 0 && !tooLong && !props.disabled;

  function send() {
    if (!canSend) return;
    props.onSend(trimmed);
    setText("");
  }

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <textarea
        aria-label="Message"
        aria-describedby={counterId}
        aria-invalid={tooLong}
        rows={2}
        value={text}
        placeholder={props.placeholder ?? "Write a message"}
        onChange={(e) => {
          setText(e.target.value);
          props.onTyping?.();
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <div className="composer-side">
        <span id={counterId} className={tooLong ? "counter error" : "counter"} aria-live="polite">
          {tooLong
            ? `Too long: ${trimmed.length.toLocaleString("en-IN")} / ${MAX_MESSAGE_LENGTH.toLocaleString("en-IN")}`
            : trimmed.length >= SHOW_COUNT_FROM
              ? `${trimmed.length.toLocaleString("en-IN")} / ${MAX_MESSAGE_LENGTH.toLocaleString("en-IN")}`
              : ""}
        </span>
        <button type="submit" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
