import type { Db } from '../db/open.js';
import { AnalyticsDb } from './analytics-db.js';
import {
  AnalyticsIngestionListener,
  DEFAULT_WRITE_OUT,
  type WriteOutThresholds,
} from './listener.js';
import { AnalyticsQueries } from './queries.js';
import { stepByStep, type WarmStep, type WarmUp, type WarmUpProgress } from './warm-up.js';
import {
  rebuildFeatures,
  rebuildRollups,
  type RebuildOptions,
  type RebuildResult,
  type Progress,
} from './rebuild.js';
import {
  runSegmentation,
  updateSegments,
  type SegmentationOptions,
  type SegmentationSummary,
} from './segmentation.js';

export type { WarmUp, WarmUpProgress } from './warm-up.js';

/** Rows read per warm-up step (a 5,000-resident county: 351 steps, the longest 37 ms). */
const WARM_UP_PAGE_ROWS = 2_000;

export interface WarmUpOptions {
  /** Rows read per step. */
  pageRows?: number;
  /** Told when each phase ends, then the total (phase 'total'). */
  progress?: (p: WarmUpProgress) => void;
}

/**
 * Analytics for one backend database: the ingestion listener, the dashboard queries and
 * the maintenance jobs, sharing one AnalyticsDb (prepared statements, caches). Wire it in
 * the backend's composition root:
 *
 *   const analytics = new Analytics(store.db);
 *   createApp({ …deps, listeners: [analytics.listener] });
 *   // routes call analytics.queries.usageHeatmap(filters) etc.
 */
export class Analytics {
  readonly adb: AnalyticsDb;
  readonly queries: AnalyticsQueries;
  readonly listener: AnalyticsIngestionListener;
  #warmUp: WarmUp | null = null;

  constructor(db: Db, writeOut: WriteOutThresholds = DEFAULT_WRITE_OUT) {
    this.adb = new AnalyticsDb(db);
    this.queries = new AnalyticsQueries(this.adb);
    this.listener = new AnalyticsIngestionListener(this.adb, this.queries, writeOut);
    // Visits a previous process applied but did not write out are applied again.
    this.listener.catchUp();
  }

  /** Stops a warm-up and writes out what the listener holds (the database stays open). */
  close(): void {
    this.#warmUp?.stop();
    this.#warmUp = null;
    this.listener.close();
  }

  /**
   * Loads the in-memory copies the dashboard queries and the listener read (at start, so
   * that first queries and batches do not pay for them), all at once.
   */
  warm(): void {
    this.queries.warm();
    this.adb.warmRows();
  }

  /**
   * warm() in steps of `pageRows` rows, yielding to the event loop between steps, so
   * that a backend serves batches and queries while a county's copies load (a minute
   * and more at once). Until a copy is complete its readers load what they need as
   * without it; a copy a query or batch loaded or changed meanwhile wins. The listener
   * holds write-outs back while the usage copies load (they must read unchanged tables).
   * `progress` hears each phase's end and the total; `stop()` (or close) ends it.
   */
  warmUp(o: WarmUpOptions = {}): WarmUp {
    this.#warmUp?.stop();
    const steps = this.#warmingSteps(o.pageRows ?? WARM_UP_PAGE_ROWS);
    const w = stepByStep(steps, this.adb.db, o.progress);
    this.#warmUp = w;
    return w;
  }

  *#warmingSteps(pageRows: number): Generator<WarmStep> {
    const resume = this.listener.pauseWriteOuts();
    try {
      yield* this.queries.warming(pageRows);
    } finally {
      resume();
    }
    yield* this.adb.warmingRows(pageRows);
  }

  /** Rebuilds every feature row from the event log (and forgets in-memory copies). */
  async rebuildFeatures(o: RebuildOptions = {}): Promise<RebuildResult> {
    this.listener.flush();
    const upTo = this.listener.logEnd();
    const r = await rebuildFeatures(this.adb, o);
    // Rows loaded into memory while the rebuild ran are out of date.
    this.adb.forgetResidents();
    this.listener.rebuilt(upTo);
    this.queries.invalidate();
    // Every row was rebuilt: a full segmentation run follows, not re-scoring.
    this.adb.clearRescore();
    return r;
  }

  /** Rebuilds the usage rollup from the event log. */
  rebuildRollups(progress?: Progress): number {
    this.listener.flush();
    const upTo = this.listener.logEnd();
    const n = rebuildRollups(this.adb, progress);
    this.listener.rebuilt(upTo);
    this.queries.invalidate();
    return n;
  }

  /** Recomputes and publishes RFM and behavioural segments. */
  segment(o: SegmentationOptions = {}): SegmentationSummary {
    this.listener.flush();
    // Publishing clears the residents awaiting re-scoring (everyone was scored).
    return runSegmentation(this.adb, o);
  }

  /**
   * The daily step: moves the feature window to end on `analysisDay` (expiring the days
   * that fall out) and re-scores the residents whose features changed since the last
   * run with the latest model, in one transaction (one commit: readers never see the
   * window moved without the segments that follow from it). Who awaits re-scoring is
   * read from SQL (written with the rows), so any process can run it, and a step that
   * fails leaves them awaiting. Returns how many residents were re-scored.
   */
  advanceDay(analysisDay: number): { expired: number; rescored: number } {
    return this.adb.db.transaction(() => {
      // What the listener holds is written out in the same transaction (one commit).
      const expired = this.listener.advanceWindow(analysisDay);
      const rescored = updateSegments(this.adb, this.adb.takeRescore(), analysisDay);
      this.listener.noteChange();
      return { expired, rescored };
    })();
  }
}
