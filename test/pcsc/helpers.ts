import type { EventEmitter } from 'node:events';
import type { CardReaderEvents, ReaderError, TapRead } from '@clubcard/hardware';

/** Resolves with the next `event` of `emitter` passing `filter`, or rejects after `timeoutMs`. */
export function nextEvent<E extends keyof CardReaderEvents>(
  emitter: EventEmitter<CardReaderEvents>,
  event: E,
  timeoutMs = 5000,
  filter: (...args: CardReaderEvents[E]) => boolean = () => true,
): Promise<CardReaderEvents[E]> {
  // The untyped view lets one listener serve any event of the map.
  const plain: EventEmitter = emitter;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      plain.off(event, listener);
      reject(new Error(`no '${String(event)}' within ${timeoutMs} ms`));
    }, timeoutMs);
    function listener(...raw: unknown[]): void {
      const args = raw as CardReaderEvents[E];
      if (!filter(...args)) return;
      clearTimeout(timer);
      plain.off(event, listener);
      resolve(args);
    }
    plain.on(event, listener);
  });
}

/** Collects every tap and error for later assertions. */
export function record(emitter: EventEmitter<CardReaderEvents>): {
  taps: TapRead[];
  errors: ReaderError[];
  events: string[];
} {
  const taps: TapRead[] = [];
  const errors: ReaderError[] = [];
  const events: string[] = [];
  emitter.on('tap', (t) => {
    taps.push(t);
    events.push('tap');
  });
  emitter.on('error', (e) => {
    errors.push(e);
    events.push(`error:${e.code}`);
  });
  emitter.on('card-removed', () => events.push('card-removed'));
  emitter.on('reader-attached', (r) => events.push(`attached:${r.name}`));
  emitter.on('reader-detached', (r) => events.push(`detached:${r.name}`));
  return { taps, errors, events };
}
