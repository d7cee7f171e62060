import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's gc() extension, as `--expose-gc` provides it. */
export type GcFunction = (options?: { type?: 'minor' | 'major' }) => void;

/**
 * V8's gc() without starting the process with `--expose-gc` (Electron's main process and
 * `npm start` do not): the flag is set at run time and the function taken from a fresh
 * context. Null where the runtime refuses.
 */
export function exposeGc(): GcFunction | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as GcFunction;
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? (fn as GcFunction) : null;
  } catch {
    return null;
  }
}

export interface IdleCollectorOptions {
  /** The collector to call; null turns the idle collector off. Default: exposeGc(). */
  gc?: GcFunction | null;
  /** How long after a tap to collect: the answer is on screen by then. Default 50 ms. */
  delayMs?: number;
  /**
   * Growth of the used heap since the last full collection that makes the next idle
   * collection a full one (before V8 would start one of its own during a tap). Default 4 MiB.
   */
  majorAfterBytes?: number;
  heapUsed?: () => number;
}

/**
 * Collects garbage between taps, when the kiosk is idle, rather than during one.
 *
 * V8 collects when its young generation fills up, which on a kiosk is during whichever
 * tap allocates the last few kilobytes: about one tap in twenty paid a scavenge (1–3 ms)
 * and one in a hundred the pause of a full collection. Called after each tap has been
 * answered, this empties the young generation (a minor collection) a moment later, so
 * the next tap starts with room to spare; once the heap has grown by `majorAfterBytes`
 * since the last full collection it does a full one instead, before V8's own limit.
 * A resident waiting at the kiosk is never the one who waits for it: the tap's answer
 * was committed and shown before.
 */
export class IdleCollector {
  readonly #gc: GcFunction | null;
  readonly #delayMs: number;
  readonly #majorAfterBytes: number;
  readonly #heapUsed: () => number;
  #timer: NodeJS.Timeout | null = null;
  #afterMajor: number;

  constructor(o: IdleCollectorOptions = {}) {
    this.#gc = o.gc === undefined ? exposeGc() : o.gc;
    this.#delayMs = o.delayMs ?? 50;
    this.#majorAfterBytes = o.majorAfterBytes ?? 4 * 1024 * 1024;
    this.#heapUsed = o.heapUsed ?? (() => getHeapStatistics().used_heap_size);
    this.#afterMajor = this.#heapUsed();
  }

  /** Whether a collector is available (false: every call is a no-op). */
  get enabled(): boolean {
    return this.#gc !== null;
  }

  /** After a tap was answered: collect once the kiosk is idle (calls coalesce). */
  afterTap(): void {
    if (this.#gc === null || this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.collect();
    }, this.#delayMs);
    this.#timer.unref();
  }

  /** Collects now: a full collection once the heap has grown enough, else a minor one. */
  collect(): 'minor' | 'major' | null {
    const gc = this.#gc;
    if (gc === null) return null;
    if (this.#heapUsed() - this.#afterMajor >= this.#majorAfterBytes) {
      gc({ type: 'major' });
      this.#afterMajor = this.#heapUsed();
      return 'major';
    }
    gc({ type: 'minor' });
    return 'minor';
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
