import type { Db } from '../db/open.js';

/**
 * Warming analytics copies a step at a time (see Analytics.warmUp): steps are run one
 * per event-loop turn, so that the backend serves requests between them.
 */

/** One step of the warm-up: its phase and the rows (or items) it read. */
export interface WarmStep {
  phase: 'usage' | 'projections' | 'population' | 'segments' | 'rows';
  rows: number;
}

/** What a warm-up phase (or the whole warm-up) read and took; no resident data. */
export interface WarmUpProgress {
  phase: WarmStep['phase'] | 'total';
  rows: number;
  steps: number;
  /** Wall time from the phase's first step to its last. */
  ms: number;
  /** The longest step: how long the event loop waited for it at most. */
  longestStepMs: number;
}

export interface WarmUp {
  /** True once everything is warm; false if stopped first. Rejects if a step failed. */
  readonly done: Promise<boolean>;
  stop(): void;
}

/**
 * Runs steps one per event-loop turn (setImmediate), never inside a transaction (a
 * step waits for the next turn), reporting each phase's end and the total.
 */
export function stepByStep(
  steps: Generator<WarmStep>,
  db: Db,
  progress?: (p: WarmUpProgress) => void,
): WarmUp {
  let stopped = false;
  let next: NodeJS.Immediate | null = null;
  let settle: (warm: boolean) => void = () => undefined;
  let fail: (e: unknown) => void = () => undefined;
  const done = new Promise<boolean>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const start = performance.now();
  const total: WarmUpProgress = { phase: 'total', rows: 0, steps: 0, ms: 0, longestStepMs: 0 };
  let phase: WarmUpProgress | null = null;
  let phaseStart = start;
  const end = (p: WarmUpProgress): void => {
    p.ms = Math.round(p.ms);
    p.longestStepMs = Math.round(p.longestStepMs);
    progress?.(p);
  };
  const tick = (): void => {
    next = null;
    if (stopped) return;
    if (!db.open) {
      // Closed under it: the steps' cleanup runs (what they paused resumes).
      stopped = true;
      steps.return(undefined);
      settle(false);
      return;
    }
    if (db.inTransaction) {
      next = setImmediate(tick);
      return;
    }
    const t = performance.now();
    let r: IteratorResult<WarmStep>;
    try {
      r = steps.next();
    } catch (e) {
      stopped = true;
      fail(e);
      return;
    }
    const now = performance.now();
    const ms = now - t;
    if (!r.done && r.value.phase !== phase?.phase) {
      if (phase) end(phase);
      phase = { phase: r.value.phase, rows: 0, steps: 0, ms: 0, longestStepMs: 0 };
      phaseStart = t;
    }
    for (const p of phase ? [phase, total] : [total]) {
      p.rows += r.done ? 0 : r.value.rows;
      p.steps += 1;
      p.longestStepMs = Math.max(p.longestStepMs, ms);
    }
    if (phase) phase.ms = now - phaseStart;
    if (r.done) {
      stopped = true;
      if (phase) end(phase);
      total.ms = now - start;
      end(total);
      settle(true);
      return;
    }
    next = setImmediate(tick);
  };
  next = setImmediate(tick);
  return {
    done,
    stop() {
      if (stopped) return;
      stopped = true;
      if (next) clearImmediate(next);
      steps.return(undefined);
      settle(false);
    },
  };
}
