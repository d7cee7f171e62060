import type { Db } from '../db/open.js';
import { AnalyticsDb } from './analytics-db.js';
import {
  AnalyticsIngestionListener,
  DEFAULT_WRITE_OUT,
  type WriteOutThresholds,
} from './listener.js';
import { AnalyticsQueries } from './queries.js';
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

  constructor(db: Db, writeOut: WriteOutThresholds = DEFAULT_WRITE_OUT) {
    this.adb = new AnalyticsDb(db);
    this.queries = new AnalyticsQueries(this.adb);
    this.listener = new AnalyticsIngestionListener(this.adb, this.queries, writeOut);
    // Visits a previous process applied but did not write out are applied again.
    this.listener.catchUp();
  }

  /** Writes out what the listener holds in memory (the database stays open). */
  close(): void {
    this.listener.close();
  }

  /**
   * Loads the in-memory copies the dashboard queries and the listener read (at start, so
   * that first queries and batches do not pay for them).
   */
  warm(): void {
    this.queries.warm();
    this.adb.warmRows();
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
