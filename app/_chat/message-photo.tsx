"use client";

import { useEffect, useRef, useState } from "react";
import type { ChatMessage, PhotoMeta } from "@/db/schema";
import { DEFAULT_PHOTO_TEXT } from "@/protocol/limits";
import { loadPhoto } from "./photo-store";

/** What a photo is called to someone who cannot see it: its description, or whose it is. */
export function photoAlt(m: Pick<ChatMessage, "messageText" | "senderName">) {
  return m.messageText === DEFAULT_PHOTO_TEXT ? `Photo from ${m.senderName}` : m.messageText;
}

/** The description under a photo; none when the sender gave none. */
export const photoCaption = (m: Pick<ChatMessage, "messageText">) =>
  m.messageText === DEFAULT_PHOTO_TEXT ? null : m.messageText;

/**
 * A stored photo: its thumbnail (sized before it loads, so the thread does not jump) as a button
 * that opens the full image in a modal dialog — Escape or Close returns focus to the thumbnail.
 */
export function MessagePhoto({ message, photo }: { message: ChatMessage; photo: PhotoMeta }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const alt = photoAlt(message);
  const src = `/api/photos/${message.id}`;
  return (
    <>
      <button
        type="button"
        className="photo-thumb"
        aria-label={`Open photo: ${alt}`}
        onClick={() => {
          setOpen(true);
          dialog.current?.showModal();
        }}
      >
        {/* biome-ignore lint/performance/noImgElement: our own thumbnail, already sized; next/image would fetch it server-side without the viewer's cookie */}
        <img src={`${src}?size=thumb`} alt={alt} width={photo.thumbWidth} height={photo.thumbHeight} loading="lazy" />
      </button>
      <dialog ref={dialog} className="photo-dialog" aria-label={alt} onClose={() => setOpen(false)}>
        {/* The full image is fetched only once someone opens it. */}
        {/* biome-ignore lint/performance/noImgElement: as above, the viewer's own session must fetch it */}
        {open && <img src={src} alt={alt} width={photo.width} height={photo.height} />}
        <form method="dialog">
          <button type="submit">Close</button>
        </form>
      </dialog>
    </>
  );
}

/** A photo still in the outbox, shown from the device's own copy. */
export function PendingPhoto({ id }: { id: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let made: string | null = null;
    let live = true;
    void loadPhoto(id).then((blob) => {
      if (!blob || !live) return;
      made = URL.createObjectURL(blob);
      setUrl(made);
    });
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [id]);
  // biome-ignore lint/performance/noImgElement: a local blob: URL
  return url ? <img className="photo-pending" src={url} alt="Your photo, not sent yet" /> : null;
}
