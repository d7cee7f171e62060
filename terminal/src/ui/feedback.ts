import { LANGUAGE_TAGS, type Language } from '../i18n/i18n.js';

/**
 * Sounds (Web Audio: no files) and an optional spoken confirmation (speechSynthesis) for
 * residents who cannot see the screen well. Both are guarded: a headless or locked-down
 * browser may have neither, and the screen must work the same without them.
 */
export type Cue = 'ok' | 'refused' | 'attention';

const TONES: Record<Cue, { hz: number; ms: number }[]> = {
  // Rising pair: done. Low single tone: not done. Two equal tones: look at the screen.
  ok: [
    { hz: 660, ms: 110 },
    { hz: 880, ms: 160 },
  ],
  refused: [{ hz: 294, ms: 320 }],
  attention: [
    { hz: 520, ms: 120 },
    { hz: 520, ms: 120 },
  ],
};

export class Feedback {
  #audio: AudioContext | null = null;
  sound = true;
  speech = false;

  /** True where this browser can speak at all. */
  static canSpeak(): boolean {
    return typeof window !== 'undefined' && 'speechSynthesis' in window;
  }

  play(cue: Cue): void {
    if (!this.sound) return;
    try {
      this.#audio ??= new AudioContext();
      const ctx = this.#audio;
      if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
      let t = ctx.currentTime;
      for (const tone of TONES[cue]) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'sine';
        osc.frequency.value = tone.hz;
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.2, t + 0.015);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + tone.ms / 1000);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t);
        osc.stop(t + tone.ms / 1000 + 0.02);
        t += tone.ms / 1000 + 0.04;
      }
    } catch {
      // No audio device or no Web Audio: the screen says it all.
    }
  }

  say(text: string, lang: Language): void {
    if (!this.speech || !Feedback.canSpeak()) return;
    try {
      const u = new SpeechSynthesisUtterance(text);
      u.lang = LANGUAGE_TAGS[lang];
      u.rate = 0.95;
      window.speechSynthesis.cancel();
      window.speechSynthesis.speak(u);
    } catch {
      // Speech is a convenience; never let it break the screen.
    }
  }

  silence(): void {
    if (Feedback.canSpeak()) window.speechSynthesis.cancel();
  }
}
