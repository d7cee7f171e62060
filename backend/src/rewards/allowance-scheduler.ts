import type { Logger } from '../logger.js';
import type { AllowanceRunReport, GrantService } from './grants.js';

/** How often the backend looks for allowances that have fallen due (default). */
export const ALLOWANCE_CHECK_INTERVAL_MS = 60 * 60_000;

export interface AllowanceSchedulerOptions {
  /** Pause between runs (default ALLOWANCE_CHECK_INTERVAL_MS). */
  intervalMs?: number;
  /**
   * Pause before the first run (default: one interval). A backend that starts mid-period
   * catches up at its first run: whatever is due and not yet issued is issued then.
   */
  firstRunMs?: number;
}

export interface AllowanceScheduler {
  /** Runs once now (outside the timer); null when the run failed (logged). */
  runNow(): AllowanceRunReport | null;
  stop(): void;
}

/**
 * The backend's allowance scheduler: on a timer, issues every scheduled allowance that is
 * due and not yet issued (GrantService.runAllowances — one `allowance` event per eligible
 * resident per period). Idempotent across runs and restarts: each issued allowance is
 * recorded in `allowance_runs` in the same transaction as its event, and a resident with
 * a row for the period is skipped. Runs are synchronous, so two never overlap.
 *
 * Logs counts only (never resident refs).
 */
export function startAllowanceScheduler(
  grants: Pick<GrantService, 'runAllowances'>,
  log: Logger,
  options: AllowanceSchedulerOptions = {},
): AllowanceScheduler {
  const intervalMs = options.intervalMs ?? ALLOWANCE_CHECK_INTERVAL_MS;
  if (!Number.isInteger(intervalMs) || intervalMs < 10) {
    throw new Error(`allowance scheduler: intervalMs must be an integer ≥ 10, got ${intervalMs}`);
  }
  const firstRunMs = options.firstRunMs ?? intervalMs;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;

  const runNow = (): AllowanceRunReport | null => {
    try {
      const report = grants.runAllowances();
      const summary = {
        at: report.at,
        issued: report.issued,
        alreadyIssued: report.alreadyIssued,
        notEligible: report.notEligible,
        credited: report.credited,
      };
      if (report.issued > 0) log.info(summary, 'scheduled allowances issued');
      else log.debug(summary, 'no scheduled allowances due');
      return report;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      log.error(
        { err: { message: (err as Error).message, code: typeof code === 'string' ? code : null } },
        'scheduled allowance run failed; retrying at the next tick',
      );
      return null;
    }
  };

  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      runNow();
      schedule(intervalMs);
    }, ms);
    timer.unref();
  };
  schedule(firstRunMs);

  return {
    runNow,
    stop: () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
