"use client";

import { useEffect, useRef, useState } from "react";
import { MAX_PHOTO_BYTES, PHOTO_TYPES } from "@/protocol/limits";
import { useHydrated } from "../_ui/use-hydrated";

type Attachment = ReturnType<typeof usePhotoAttachment>;

/**
 * The photo waiting in the composer, checked in the browser first (type and size) so the
 * common mistakes get their sentence at once; the server checks the bytes themselves again.
 */
export function usePhotoAttachment() {
  const [photo, setPhoto] = useState<{ file: File; preview: string } | null>(null);
  const [error, setError] = useState("");
  useEffect(() => () => (photo ? URL.revokeObjectURL(photo.preview) : undefined), [photo]);
  return {
    photo,
    error,
    choose(file: File | undefined) {
      if (!file) return;
      if (!(PHOTO_TYPES as readonly string[]).includes(file.type)) {
        setError("Only JPEG, PNG or WebP photos can be sent");
        return;
      }
      if (file.size > MAX_PHOTO_BYTES) {
        setError("The photo is too large: at most 5 MB");
        return;
      }
      setError("");
      setPhoto({ file, preview: URL.createObjectURL(file) });
    },
    clear() {
      setPhoto(null);
      setError("");
    },
  };
}

/**
 * "Attach a photo": a button (keyboard and screen reader friendly) opening the file picker. No
 * `capture` attribute: phones then offer the camera *and* the gallery, where payment screenshots are.
 */
export function AttachPhoto({ attachment }: { attachment: Attachment }) {
  const input = useRef<HTMLInputElement>(null);
  const hydrated = useHydrated();
  return (
    <>
      <button
        type="button"
        className="attach"
        aria-label="Attach a photo"
        title="Attach a photo"
        disabled={!hydrated}
        onClick={() => input.current?.click()}
      >
        <svg
          aria-hidden="true"
          viewBox="0 0 24 24"
          width="22"
          height="22"
          fill="none"
          stroke="currentColor"
          strokeWidth="2"
        >
          <path d="M4 8h3l2-3h6l2 3h3v11H4z" />
          <circle cx="12" cy="13" r="3.5" />
        </svg>
      </button>
      <input
        ref={input}
        type="file"
        accept={PHOTO_TYPES.join(",")}
        hidden
        onChange={(e) => {
          attachment.choose(e.currentTarget.files?.[0]);
          e.currentTarget.value = ""; // the same file may be chosen again after removing it
        }}
      />
    </>
  );
}

/** The chosen photo above the box, with Remove; or why it was not taken. */
export function AttachedPhoto({ attachment }: { attachment: Attachment }) {
  const { photo, error } = attachment;
  if (error) {
    return (
      <p className="attachment error" role="alert">
        {error}
      </p>
    );
  }
  if (!photo) return null;
  return (
    <div className="attachment">
      {/* biome-ignore lint/performance/noImgElement: a local blob: preview; next/image cannot optimise it */}
      <img src={photo.preview} alt={`Attached: ${photo.file.name}`} />
      <button type="button" className="link-button" onClick={() => attachment.clear()}>
        Remove photo
      </button>
    </div>
  );
}
