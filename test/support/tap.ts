import type { SimulatedReader } from '@clubcard/hardware';
import type { TapOutcome } from '@clubcard/terminal/bridge/kiosk-bridge';
import type { KioskCore } from '@clubcard/terminal/core/kiosk-core';
import { tapSimulated } from '@clubcard/terminal/core/simulated-tap';

/**
 * Taps a card on a simulated reader and resolves with the answer the kiosk showed (null
 * when staff mode or the desk took the card), once the tap is done.
 */
export async function tapAndAnswerOrNull(
  core: KioskCore,
  reader: SimulatedReader,
  uid: string,
): Promise<TapOutcome | null> {
  const tapped = await tapSimulated(core, reader, uid);
  if (!tapped.read) throw new Error('the simulated reader did not take the tap');
  if (!tapped.answered) throw new Error('the kiosk did not answer the tap within 5 s');
  return tapped.outcome;
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
