"use client";

import { useSyncExternalStore } from "react";

/**
 * The alert tone, made with Web Audio: no file to fetch, nothing to cache, works offline.
 *
 * Browsers let a page start audio only after the person has interacted with it, so the
 * AudioContext is created and resumed inside the first pointer or key event. Before that the
 * tone cannot play; the tab also tells the tab election it cannot (see `isAudioUnlocked`), so a
 * tab that can play takes the lead.
 */

// --- Mute switch, persisted in localStorage and shared live between tabs --------------------------

export const MUTE_STORAGE_KEY = "floorline.staff.alert-sound-muted";
type MuteStore = Pick<Storage, "getItem" | "setItem" | "removeItem">;

function browserStore(): MuteStore | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage blocked by the browser's settings: reading it throws
  }
}

export function readMuted(store: MuteStore | null = browserStore()) {
  try {
    return store?.getItem(MUTE_STORAGE_KEY) === "1";
  } catch {
    return false;
  }
}

const muteListeners = new Set<() => void>();

export function writeMuted(muted: boolean, store: MuteStore | null = browserStore()) {
  try {
    if (!store) throw new Error("no storage");
    if (muted) store.setItem(MUTE_STORAGE_KEY, "1");
    else store.removeItem(MUTE_STORAGE_KEY);
    mutedInMemory = null;
  } catch {
    mutedInMemory = muted; // blocked or full storage: the switch still works until reload
  }
  for (const listener of [...muteListeners]) listener();
}

/** The choice, when storage could not keep it. */
let mutedInMemory: boolean | null = null;
export const isMuted = () => mutedInMemory ?? readMuted();

function subscribeMuted(onChange: () => void) {
  muteListeners.add(onChange);
  // Another tab flipped the switch: every tab's checkbox follows (only the leader plays anyway).
  const onStorage = (event: StorageEvent) => {
    if (event.key !== MUTE_STORAGE_KEY && event.key !== null) return;
    mutedInMemory = null;
    onChange();
  };
  window.addEventListener("storage", onStorage);
  return () => {
    muteListeners.delete(onChange);
    window.removeEventListener("storage", onStorage);
  };
}

export function useMuted() {
  return useSyncExternalStore(subscribeMuted, isMuted, () => false);
}

// --- Unlocking audio on the first interaction --------------------------------------------------------

let audio: AudioContext | null = null;
const unlockListeners = new Set<() => void>();

export function isAudioUnlocked() {
  return audio?.state === "running";
}

/**
 * Listens for the first interaction and unlocks audio in it. Several event types, because which
 * one counts as "user activation" differs: a mouse press counts on pointerdown, a touch only on
 * pointerup/touchend. Listeners stay until the context really runs. Returns a cleanup.
 */
export function installAudioUnlock(): () => void {
  if (typeof window === "undefined" || isAudioUnlocked()) return () => {};
  const events = ["pointerdown", "pointerup", "touchend", "keydown"] as const;
  const presses = ["pointerdown", "pointerup", "pointercancel"] as const;
  let held = false;
  const track = (e: Event) => {
    held = e.type === "pointerdown";
  };
  const cleanup = () => {
    for (const type of events) window.removeEventListener(type, unlock, true);
  };
  // The page hears of it once the press is over, after its click: the "turn on sound" notice
  // leaving reflows the header, and a link that moved between pointerdown and pointerup would
  // never get its click.
  const tell = () => {
    if (held)
      return void window.addEventListener("pointerup", () => setTimeout(tell, 0), { once: true, capture: true });
    for (const type of presses) window.removeEventListener(type, track, true);
    for (const listener of [...unlockListeners]) listener();
  };
  const unlock = () => {
    const Ctor =
      window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctor) return cleanup(); // no Web Audio: stay silent, notifications still work
    try {
      audio ??= new Ctor();
    } catch {
      return cleanup();
    }
    audio.resume().then(
      () => {
        if (!isAudioUnlocked()) return;
        cleanup();
        tell();
      },
      () => {}, // not an activating event: wait for the next one
    );
  };
  for (const type of presses) window.addEventListener(type, track, true);
  for (const type of events) window.addEventListener(type, unlock, true);
  return () => {
    cleanup();
    for (const type of presses) window.removeEventListener(type, track, true);
  };
}

function subscribeUnlocked(onChange: () => void) {
  unlockListeners.add(onChange);
  return () => {
    unlockListeners.delete(onChange);
  };
}

export function useAudioUnlocked() {
  return useSyncExternalStore(subscribeUnlocked, isAudioUnlocked, () => false);
}

// --- The tone ------------------------------------------------------------------------------------

/** A burst of events (five quick messages) gives one chime, not five overlapping ones. */
export const MIN_GAP_MS = 2000;
let lastPlayedAt = Number.NEGATIVE_INFINITY;

export function chimeDue(last: number, now: number, gapMs = MIN_GAP_MS) {
  return now - last >= gapMs;
}

/** Plays the alert tone unless muted, locked or just played. Returns whether it played. */
export function playAlertSound(now = Date.now()) {
  const context = audio;
  if (!context || isMuted() || !chimeDue(lastPlayedAt, now)) return false;
  lastPlayedAt = now;
  if (context.state === "running") tone(context);
  // Suspended since (iOS does this after a call or a lock): try to resume, then play.
  else
    context.resume().then(
      () => tone(context),
      () => {},
    );
  return true;
}

/** Two short rising notes, about 0.3 s: audible on a noisy floor, not alarming. */
function tone(context: AudioContext) {
  const start = context.currentTime + 0.01;
  for (const [i, frequency] of [660, 990].entries()) {
    const at = start + i * 0.15;
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    // Ramp in and out: an abrupt start or stop clicks.
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.3, at + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.14);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(at);
    oscillator.stop(at + 0.15);
  }
}
