import { setTimeout as sleep } from 'node:timers/promises';
import type { VirtualCard, VpcdEndpoint } from './virtual-card.js';

export interface TapOptions extends VpcdEndpoint {
  /** Longest time the card stays in the field (default 1500 ms). */
  holdMs?: number;
  /** Take the card away as soon as this settles (e.g. the reader's tap event). */
  until?: Promise<unknown>;
}

/**
 * One tap: the card enters the field, stays until `until` settles or `holdMs` passes (or
 * a fault removes it), then leaves. Resolves once the socket has closed.
 */
export async function tap(card: VirtualCard, options: TapOptions = {}): Promise<void> {
  const { holdMs = 1500, until, ...endpoint } = options;
  await card.present(endpoint);
  const timer = new AbortController();
  const waits: Promise<unknown>[] = [
    sleep(holdMs, undefined, { signal: timer.signal }).catch(() => undefined),
    card.whenRemoved(),
  ];
  if (until) waits.push(until.catch(() => undefined));
  await Promise.race(waits);
  timer.abort();
  await card.remove();
}
