import type { Db } from '../db/open.js';
import { AnalyticsDb } from './analytics-db.js';
import { AnalyticsIngestionListener } from './listener.js';
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

  constructor(db: Db) {
    this.adb = new AnalyticsDb(db);
    this.queries = new AnalyticsQueries(this.adb);
    this.listener = new AnalyticsIngestionListener(this.adb, this.queries);
  }

  /** Rebuilds every feature row from the event log (and forgets in-memory copies). */
  async rebuildFeatures(o: RebuildOptions = {}): Promise<RebuildResult> {
    const r = await rebuildFeatures(this.adb, o);
    this.queries.invalidate();
    this.queries.takeTouched();
    return r;
  }

  /** Rebuilds the usage rollup from the event log. */
  rebuildRollups(progress?: Progress): number {
    const n = rebuildRollups(this.adb, progress);
    this.queries.invalidate();
    return n;
  }

  /** Recomputes and publishes RFM and behavioural segments. */
  segment(o: SegmentationOptions = {}): SegmentationSummary {
    const s = runSegmentation(this.adb, o);
    this.queries.takeTouched();
    return s;
  }

  /**
   * The daily step: moves the feature window to end on `analysisDay` (expiring the days
   * that fall out) and re-scores the residents whose features changed since the last
   * run with the latest model, in one transaction (one commit: readers never see the
   * window moved without the segments that follow from it). Returns how many residents
   * were re-scored.
   */
  advanceDay(analysisDay: number): { expired: number; rescored: number } {
    return this.adb.db.transaction(() => {
      const expired = this.listener.advanceWindow(analysisDay);
      const rescored = updateSegments(this.adb, this.queries.takeTouched(), analysisDay);
      return { expired, rescored };
    })();
  }
}
