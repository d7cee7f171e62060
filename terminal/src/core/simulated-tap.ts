import type { SimulatedReader } from '@clubcard/hardware';
import type { CoreMessage, TapOutcome } from '../bridge/kiosk-bridge.js';
import type { KioskCore } from './kiosk-core.js';

/** What tapSimulated saw: whether the reader took the tap, and the answer shown. */
export type SimulatedTapAnswer =
  | { read: false }
  /** answered false: no answer within the time allowed. outcome null: staff mode or the desk took the card. */
  | { read: true; answered: boolean; outcome: TapOutcome | null };

/**
 * Taps a card on a simulated reader and waits for the kiosk's answer. The core shows a
 * recorded tap once its record is on disk, then reports the tap's timing: that is when
 * the tap is done (the demo tap endpoint, tests).
 */
export function tapSimulated(
  core: KioskCore,
  reader: SimulatedReader,
  uid: string,
  timeoutMs = 5000,
): Promise<SimulatedTapAnswer> {
  return new Promise((resolve, reject) => {
    let outcome: TapOutcome | null = null;
    const capture = (m: CoreMessage): void => {
      if (m.type === 'outcome') outcome = m.outcome;
    };
    const stop = (): void => {
      clearTimeout(timer);
      core.off('message', capture);
      core.off('tap-timing', done);
    };
    const done = (): void => {
      stop();
      resolve({ read: true, answered: true, outcome });
    };
    const timer = setTimeout(() => {
      stop();
      resolve({ read: true, answered: false, outcome });
    }, timeoutMs);
    core.on('message', capture);
    core.on('tap-timing', done);
    try {
      if (!reader.tap(uid)) {
        stop();
        resolve({ read: false });
      }
    } catch (e) {
      stop();
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
