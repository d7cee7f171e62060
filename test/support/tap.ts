import type { SimulatedReader } from '@clubcard/hardware';
import type { TapOutcome } from '@clubcard/terminal/bridge/kiosk-bridge';
import type { KioskCore } from '@clubcard/terminal/core/kiosk-core';

/**
 * Taps a card on a simulated reader and resolves with the answer the kiosk showed (null
 * when staff mode or the desk took the card). The core shows a recorded tap once its
 * record is on disk, then reports the tap's timing: that is when the tap is done.
 */
export function tapAndAnswerOrNull(
  core: KioskCore,
  reader: SimulatedReader,
  uid: string,
): Promise<TapOutcome | null> {
  return new Promise((resolve, reject) => {
    let outcome: TapOutcome | null = null;
    const capture = (m: { type: string; outcome?: TapOutcome }): void => {
      if (m.type === 'outcome' && m.outcome) outcome = m.outcome;
    };
    const stop = (): void => {
      clearTimeout(timer);
      core.off('message', capture);
      core.off('tap-timing', finish);
    };
    const finish = (): void => {
      stop();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error('the kiosk did not answer the tap within 5 s'));
    }, 5000);
    core.on('message', capture);
    core.on('tap-timing', finish);
    if (!reader.tap(uid)) {
      stop();
      reject(new Error('the simulated reader did not take the tap'));
    }
  });
}

/** tapAndAnswerOrNull for a card that must get an answer on the resident screen. */
export async function tapAndAnswer(
  core: KioskCore,
  reader: SimulatedReader,
  uid: string,
): Promise<TapOutcome> {
  const outcome = await tapAndAnswerOrNull(core, reader, uid);
  if (!outcome) throw new Error('no outcome for tap');
  return outcome;
}
