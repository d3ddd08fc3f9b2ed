"use client";

import { useSyncExternalStore } from "react";

/**
 * A short two-tone chime made with Web Audio (no file to fetch). Browsers only let a page play
 * sound after the person has interacted with it, so the context is created on the first
 * pointer or key press; before that, `playChime` does nothing.
 */
const MUTE_KEY = "floorline.alerts.muted";
let context: AudioContext | null = null;
const listeners = new Set<() => void>();

export function unlockAudioOnFirstInteraction() {
  const unlock = () => {
    context ??= new AudioContext();
    void context.resume();
    window.removeEventListener("pointerdown", unlock);
    window.removeEventListener("keydown", unlock);
  };
  window.addEventListener("pointerdown", unlock);
  window.addEventListener("keydown", unlock);
  return () => {
    window.removeEventListener("pointerdown", unlock);
    window.removeEventListener("keydown", unlock);
  };
}

export function playChime() {
  if (!context || isMuted() || context.state !== "running") return false;
  const start = context.currentTime;
  for (const [i, frequency] of [880, 1320].entries()) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.25, start + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.18 + 0.16);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start + i * 0.18);
    oscillator.stop(start + i * 0.18 + 0.17);
  }
  return true;
}

export function isMuted() {
  return typeof localStorage !== "undefined" && localStorage.getItem(MUTE_KEY) === "1";
}

export function setMuted(muted: boolean) {
  if (muted) localStorage.setItem(MUTE_KEY, "1");
  else localStorage.removeItem(MUTE_KEY);
  for (const l of listeners) l();
}

export function useMuted() {
  return useSyncExternalStore(
    (onChange) => {
      listeners.add(onChange);
      const onStorage = (e: StorageEvent) => e.key === MUTE_KEY && onChange();
      window.addEventListener("storage", onStorage);
      return () => {
        listeners.delete(onChange);
        window.removeEventListener("storage", onStorage);
      };
    },
    isMuted,
    () => false,
  );
}
