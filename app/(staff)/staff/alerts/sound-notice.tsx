"use client";

import { useHydrated } from "../../../_ui/use-hydrated";
import { useAudioUnlocked, useMuted } from "./sound";

/**
 * Browsers play a page's sound only after someone has clicked or typed in it: until then the
 * alert tone is silently lost. Say so, and make turning it on one click (the click itself is the
 * interaction `installAudioUnlock` waits for). Not shown when the tone is muted anyway, and only
 * after hydration, when the unlock listeners exist, so a click on it is never wasted.
 */
export function SoundLockedNotice() {
  const muted = useMuted();
  const unlocked = useAudioUnlocked();
  const hydrated = useHydrated();
  if (!hydrated || muted || unlocked) return null;
  return (
    <button type="button" className="sound-notice">
      <span aria-hidden="true">🔇 </span>Click to turn on sound
    </button>
  );
}
