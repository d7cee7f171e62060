import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackendDb, type Db } from '../db/open.js';
import { generateCounty } from '../demo/county.js';
import { AnalyticsDb } from './analytics-db.js';
import { Analytics, type WarmUpProgress } from './analytics.js';
import type { WriteOutThresholds } from './listener.js';
import { AGE_BANDS, FEATURE_COLUMNS, NF } from './model.js';
import { newestEventDay } from './rebuild.js';
import { insertWeekLater, visitPayloadsOfDay } from './test-day.js';

/**
 * The backend's warm-up loads the analytics copies a page at a time, yielding to the
 * event loop between pages, while batches are ingested and the dashboard asks questions.
 * Every answer and every row must be what an instance without a warm-up gives, at each
 * point; stopping the warm-up leaves nothing half-loaded in use.
 */

const RESIDENTS = 1500;
/** Visits per ingested batch. */
const BATCH = 5;

let dir = '';
let county = '';
/** The week of visits ingested during the warm-up (payloads, moved a week later on insert). */
let week: Record<string, unknown>[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'analytics-warm-up-'));
  county = join(dir, 'county.sqlite');
  const db = openBackendDb(county);
  generateCounty(db, { residents: RESIDENTS, seed: 29, cardHashKey: '44'.repeat(32) });
  const analytics = new Analytics(db);
  const last = newestEventDay(analytics.adb) ?? 0;
  await analytics.rebuildFeatures({ workers: 0, analysisDay: last });
  analytics.rebuildRollups();
  analytics.segment({ fitSample: RESIDENTS, silhouetteSample: 300, kMin: 3, kMax: 5 });
  week = [];
  for (let d = last - 6; d <= last; d++) week.push(...visitPayloadsOfDay(db, d));
  analytics.close();
  db.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of the county database, open. */
function copyOfCounty(name: string): Db {
  const file = join(dir, `${name}.sqlite`);
  copyFileSync(county, file);
  return openBackendDb(file);
}

/** One event-loop turn (the warm-up takes at most one step per turn). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Ingests payloads as one batch, as ingestion does (insert and listener in one transaction). */
function ingest(analytics: Analytics, payloads: readonly Record<string, unknown>[]): void {
  const db = analytics.adb.db;
  db.transaction(() => {
    analytics.listener.onAccepted(insertWeekLater(db, payloads), 0);
  })();
}

/** The dashboard's answers (k-anonymised aggregates), as one value to compare. */
function answers(analytics: Analytics): unknown {
  const q = analytics.queries;
  return {
    heatmap: q.usageHeatmap(),
    trend: q.weeklyTrend(),
    // A projection of the cube (filtered on one dimension).
    trendOfAge: q.weeklyTrend({ ageBand: AGE_BANDS[2] }),
    takeUp: q.takeUp(),
    segments: q.segmentSizes(),
  };
}

/** Every resident's row as this instance reads it (from memory if its rows are warm). */
function rows(adb: AnalyticsDb): unknown {
  const refs = adb.db
    .prepare('SELECT resident_ref FROM analytics_residents ORDER BY id')
    .pluck()
    .all() as string[];
  const out = new Float64Array(refs.length * NF);
  const found = adb.loadResidents(refs, out);
  return { found, rows: Array.from(out) };
}

const TABLES_SQL = [
  `SELECT id, resident_ref, ${FEATURE_COLUMNS.join(', ')}, hex(usage) FROM analytics_residents ORDER BY id`,
  'SELECT week, how, venue, service, age, ward, visits, hex(residents) FROM analytics_usage ORDER BY 1, 2, 3, 4, 5, 6',
];

function tables(db: Db): unknown[] {
  return TABLES_SQL.map((sql) => db.prepare(sql).raw(true).all());
}

/** Two copies of the county: one to warm up in steps, one without a warm-up. */
function twoCopies(name: string, writeOut?: WriteOutThresholds) {
  const warmDb = copyOfCounty(`${name}-warm`);
  const plainDb = copyOfCounty(`${name}-plain`);
  const warm = new Analytics(warmDb, writeOut);
  const plain = new Analytics(plainDb, writeOut);
  return {
    warm,
    warmDb,
    plain,
    /** The same batch ingested by both. */
    ingest(batch: readonly Record<string, unknown>[]): void {
      ingest(warm, batch);
      ingest(plain, batch);
    },
    /**
     * The same answers, rows and tables in both; rows in memory are what SQL holds (none
     * went back to an older copy).
     */
    expectSame(): void {
      expect(answers(warm)).toEqual(answers(plain));
      expect(rows(warm.adb)).toEqual(rows(new AnalyticsDb(warmDb)));
      expect(rows(warm.adb)).toEqual(rows(plain.adb));
      expect(tables(warmDb)).toEqual(tables(plainDb));
    },
    close(): void {
      warm.close();
      plain.close();
      warmDb.close();
      plainDb.close();
    },
  };
}

describe('analytics warm-up in steps', () => {
  it.each([
    ['dashboard queries between steps', undefined, 3],
    ['write-outs forced between steps (12 visits held)', { visits: 12, ms: 60_000 }, 0],
  ] as [string, WriteOutThresholds | undefined, number][])(
    'serves batches and answers as an instance without warm-up does (%s)',
    async (name, writeOut, queryEvery) => {
      const copies = twoCopies(`interleaved-${String(queryEvery)}`, writeOut);
      const { warm, warmDb } = copies;
      const phases: WarmUpProgress[] = [];
      let timerFired = false;
      const w = warm.warmUp({ pageRows: 100, progress: (p) => phases.push(p) });
      setTimeout(() => {
        timerFired = true;
      }, 0);
      let finished = false;
      let timerFiredFirst = false;
      void w.done.then(() => {
        finished = true;
        timerFiredFirst = timerFired;
      });
      // Batches spread over the warm-up's steps (about one step per 100 rows).
      const rollupRows = warmDb
        .prepare('SELECT COUNT(*) FROM analytics_usage')
        .pluck()
        .get() as number;
      const steps = Math.ceil((rollupRows + 2 * RESIDENTS) / 100) + 14;
      const batches = Math.ceil(week.length / BATCH);
      const stride = Math.max(1, Math.floor(steps / batches));
      let sent = 0;
      let asked = 0;
      for (let t = 0; !finished; t++) {
        await turn();
        if (t % stride === 0 && sent < week.length) {
          const batch = week.slice(sent, sent + BATCH);
          sent += batch.length;
          copies.ingest(batch);
        }
        if (queryEvery > 0 && t % (stride * queryEvery) === 0) {
          expect(answers(warm), `${name}: answers at turn ${String(t)}`).toEqual(
            answers(copies.plain),
          );
          asked++;
        }
      }
      await expect(w.done).resolves.toBe(true);
      // The event loop ran timers while the warm-up went on.
      expect(timerFiredFirst).toBe(true);
      const all = ['usage', 'projections', 'population', 'segments', 'rows', 'total'];
      // Each phase ends once, in order; a phase whose copy a query loaded first is skipped.
      const seen = phases.map((p) => p.phase);
      expect(seen).toEqual(all.filter((p) => seen.includes(p as WarmUpProgress['phase'])));
      if (queryEvery === 0) expect(seen).toEqual(all);
      else expect(seen).toEqual(expect.arrayContaining(['projections', 'rows', 'total']));
      const total = phases[phases.length - 1];
      expect(total?.steps).toBeGreaterThan(20);
      // Batches arrived in every phase that takes more than a few steps.
      expect(sent).toBeGreaterThan(BATCH * 10);
      if (queryEvery > 0) expect(asked).toBeGreaterThan(3);
      expect(warm.adb.rowsWarm).toBe(true);

      // The rest of the week after the warm-up, then everything compared.
      for (; sent < week.length; sent += BATCH) copies.ingest(week.slice(sent, sent + BATCH));
      copies.expectSame();
      copies.close();
    },
  );

  it('stops part-way, leaving no half-loaded copy in use', async () => {
    const copies = twoCopies('stopped');
    const { warm } = copies;
    const phases: WarmUpProgress[] = [];
    const w = warm.warmUp({ pageRows: 50, progress: (p) => phases.push(p) });
    // Part-way through the residents' rows.
    while (!phases.some((p) => p.phase === 'segments')) await turn();
    await turn();
    await turn();
    copies.ingest(week.slice(0, BATCH));
    expect(warm.adb.rowsWarm).toBe(false);
    w.stop();
    await expect(w.done).resolves.toBe(false);
    const after = phases.length;
    for (let i = 0; i < 50; i++) await turn();
    // No step ran after it stopped: no phase ended, the rows were never put in use.
    expect(phases.length).toBe(after);
    expect(phases.some((p) => p.phase === 'total')).toBe(false);
    expect(warm.adb.rowsWarm).toBe(false);
    // Reads go to SQL as without a warm-up; write-outs by size and time are back on.
    copies.ingest(week.slice(BATCH, BATCH * 3));
    copies.expectSame();
    copies.close();
  });

  it('is stopped by close, which still writes out what the listener holds', async () => {
    const db = copyOfCounty('closed-analytics');
    const analytics = new Analytics(db);
    let steps = 0;
    const w = analytics.warmUp({ pageRows: 20, progress: (p) => (steps += p.steps) });
    while (steps === 0) await turn();
    ingest(analytics, week.slice(0, BATCH));
    expect(analytics.listener.heldVisits).toBeGreaterThan(0);
    analytics.close();
    await expect(w.done).resolves.toBe(false);
    expect(analytics.listener.heldVisits).toBe(0);
    const seen = steps;
    for (let i = 0; i < 20; i++) await turn();
    expect(steps).toBe(seen);
    expect(analytics.adb.rowsWarm).toBe(false);
    db.close();
  });

  it("loads residents' rows again a page per turn after a batch rolled back", async () => {
    const copies = twoCopies('rolled-back');
    const { warm } = copies;
    warm.warm();
    copies.ingest(week.slice(0, BATCH));
    // A batch whose transaction rolls back after the listener has seen it.
    const db = warm.adb.db;
    expect(() =>
      db.transaction(() => {
        warm.listener.onAccepted(insertWeekLater(db, week.slice(BATCH, BATCH * 2)), 0);
        throw new Error('push failed');
      })(),
    ).toThrow('push failed');
    // The next batch finds it out: what the listener held and the rows in memory go.
    copies.ingest(week.slice(BATCH, BATCH * 2));
    expect(warm.adb.rowsWarm).toBe(false);
    let turns = 0;
    while (!warm.adb.rowsWarm && turns < 1000) {
      await turn();
      turns++;
    }
    expect(warm.adb.rowsWarm).toBe(true);
    copies.ingest(week.slice(BATCH * 2, BATCH * 3));
    copies.expectSame();
    copies.close();
  });

  it('stops when the database is closed under it', async () => {
    const db = copyOfCounty('closed');
    const analytics = new Analytics(db);
    const w = analytics.warmUp({ pageRows: 100 });
    await turn();
    await turn();
    db.close();
    await expect(w.done).resolves.toBe(false);
  });
});
