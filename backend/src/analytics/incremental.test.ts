import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runClubcard } from '../cli/test-cli.js';
import type { ServiceKind } from '@clubcard/shared';
import { openBackendDb, type Db } from '../db/open.js';
import { generateCounty } from '../demo/county.js';
import { Analytics } from './analytics.js';
import { HEALTH_SEGMENTATION } from './analytics-db.js';
import { LOG_FEATURES, ND, residentVector } from './features.js';
import { applyStandardisation, nearest } from './kmeans.js';
import { isoDateOfDay, packedLondonSlot, parseInstant } from './london-slots.js';
import { APPLIED_EVENT_KEY, type WriteOutThresholds } from './listener.js';
import { FEATURE_COLUMNS, WINDOW_DAYS } from './model.js';
import { RESIDENT_SET_CAP, decodeResidentSet } from './privacy.js';
import { newestEventDay } from './rebuild.js';
import { RFM_SEGMENT_NAMES, rfmSegmentOf, scoreByCuts } from './rfm.js';
import { latestModel } from './segmentation.js';
import { insertWeekLater, visitPayloadsOfDay } from './test-day.js';

/**
 * One more day applied incrementally (the ingestion listener in batches, then the window
 * moved on a day and changed residents re-scored) must leave exactly what a rebuild from
 * the raw event log gives: feature rows, usage entries and rollups; and published
 * segments must be those of scoring each changed resident on their own with the latest
 * model, everyone else keeping the segment they had.
 */

const FEATURES_SQL = `SELECT id, resident_ref, age, ward, ${FEATURE_COLUMNS.join(', ')}, hex(usage) AS usage
  FROM analytics_residents ORDER BY id`;
const ROLLUP_SQL =
  'SELECT week, how, venue, service, age, ward, visits, residents FROM analytics_usage ORDER BY week, how, venue, service, age, ward';
const SEGMENTS_SQL =
  'SELECT resident_id, r, f, m, rfm_segment, cluster FROM analytics_segments ORDER BY resident_id';

interface SegmentRow {
  resident_id: number;
  r: number;
  f: number;
  m: number;
  rfm_segment: string;
  cluster: number;
}

/** The London day of an ISO instant. */
function dayOf(at: string): number {
  return Math.floor(packedLondonSlot(parseInstant(at)) / 256);
}

/** Visits per ingested batch. */
const BATCH = 5;

/**
 * The visits of day `day` (payloads to move a week later): those of a week earlier,
 * plus visits of residents the analytics have never seen (one of them with a GP drop-in
 * visit only) and extra GP drop-in visits of residents chosen by the caller.
 */
function nextDay(
  db: Db,
  day: number,
  newRefs: readonly string[],
  gpRefs: readonly string[],
): Record<string, unknown>[] {
  const kinds = new Map(
    (db.prepare('SELECT id, kind FROM services').all() as { id: string; kind: ServiceKind }[]).map(
      (s) => [s.id, s.kind],
    ),
  );
  const week = visitPayloadsOfDay(db, day - 7);
  const gp = week.find((e) => kinds.get(String(e.serviceId)) === 'gp-drop-in');
  const other = week.find((e) => kinds.get(String(e.serviceId)) !== 'gp-drop-in');
  if (!gp || !other) throw new Error('the county has no GP and other visits on that day');
  const extra: Record<string, unknown>[] = [];
  const copy = (e: Record<string, unknown>, residentRef: string): void => {
    // Same time, another id (the last four hex digits changed).
    const id = String(e.id);
    const tail = (Number.parseInt(id.slice(-4), 16) ^ (extra.length + 1)).toString(16);
    extra.push({ ...e, residentRef, id: id.slice(0, -4) + tail.padStart(4, '0') });
  };
  // The first new resident comes twice (library and GP), the second to the GP only.
  newRefs.forEach((ref, i) => {
    if (i % 2 === 0) copy(other, ref);
    copy(gp, ref);
  });
  for (const ref of gpRefs) copy(gp, ref);
  const all = [...week];
  // Spread the extra visits through the day's batches.
  extra.forEach((e, i) => all.splice(Math.min(all.length, i * 37), 0, e));
  return all;
}

/**
 * Ingests visit payloads (a week later, see insertWeekLater) in batches as ingestion
 * does: each batch's events inserted and passed to the listener in one transaction.
 */
function ingest(analytics: Analytics, payloads: readonly Record<string, unknown>[]): void {
  const db = analytics.adb.db;
  for (let i = 0; i < payloads.length; i += BATCH) {
    db.transaction(() => {
      analytics.listener.onAccepted(insertWeekLater(db, payloads.slice(i, i + BATCH)), 0);
    })();
  }
}

/**
 * Scores one resident on their own with the latest model, with their stored consent (or
 * the one given).
 */
function scoreAlone(
  analytics: Analytics,
  id: number,
  day: number,
  withConsent?: boolean,
): Omit<SegmentRow, 'resident_id'> | null {
  const model = latestModel(analytics.adb);
  if (!model) throw new Error('no segmentation run');
  const db = analytics.adb.db;
  const row = Float64Array.from(
    Object.values(
      db
        .prepare(`SELECT ${FEATURE_COLUMNS.join(', ')} FROM analytics_residents WHERE id = ?`)
        .get(id) as Record<string, number>,
    ),
  );
  const consent = db
    .prepare(
      `SELECT granted FROM consents c JOIN analytics_residents a ON a.resident_ref = c.resident_ref
       WHERE a.id = ? AND c.purpose = ?`,
    )
    .pluck()
    .get(id, HEALTH_SEGMENTATION);
  const raw = new Float64Array(ND);
  const v = residentVector(row, 0, day, withConsent ?? consent === 1, raw, 0);
  if (!v) return null;
  const r = scoreByCuts(v.recencyDays, model.rfmCuts.r, true);
  const f = scoreByCuts(v.frequency, model.rfmCuts.f, false);
  const m = scoreByCuts(v.monetary, model.rfmCuts.m, false);
  for (const j of LOG_FEATURES) raw[j] = Math.log1p(raw[j] ?? 0);
  const z = applyStandardisation(raw, 1, ND, model.mean, model.sd);
  const centroids = new Float64Array(model.k * ND);
  model.centroids.forEach((c, i) => centroids.set(c, i * ND));
  return {
    r,
    f,
    m,
    rfm_segment: RFM_SEGMENT_NAMES[rfmSegmentOf(r, f, m)] ?? 'Others',
    cluster: nearest(z, 0, centroids, model.k, ND),
  };
}

interface County {
  analytics: Analytics;
  last: number;
  before: Map<number, SegmentRow>;
  newRefs: string[];
  withdraws: string;
  gives: string;
  without: string;
  /** The next day's visits, not ingested yet. */
  payloads: Record<string, unknown>[];
}

/**
 * A county of 700 residents rebuilt and segmented as of its last day, two residents
 * registered since, consent withdrawn by one GP user and given by another, and the next
 * day's visits (with GP visits of those two and of one without consent).
 */
async function countyBeforeNextDay(db: Db, writeOut?: WriteOutThresholds): Promise<County> {
  generateCounty(db, { residents: 700, seed: 11, cardHashKey: '22'.repeat(32) });
  const analytics = new Analytics(db, writeOut);
  const last = newestEventDay(analytics.adb) ?? 0;
  await analytics.rebuildFeatures({ workers: 0, analysisDay: last });
  analytics.rebuildRollups();
  analytics.segment({ fitSample: 700, silhouetteSample: 300, kMin: 3, kMax: 5 });
  const before = new Map(
    (db.prepare(SEGMENTS_SQL).all() as SegmentRow[]).map((s) => [s.resident_id, s]),
  );

  // Residents the analytics have never seen, registered after the rebuild.
  const ward = db.prepare('SELECT ward FROM residents LIMIT 1').pluck().get() as string;
  const newRefs = ['r-new0000001', 'r-new0000002'];
  for (const ref of newRefs) {
    db.prepare(
      "INSERT INTO residents (ref, first_name, age_band, ward, created_at) VALUES (?, NULL, '65-74', ?, 0)",
    ).run(ref, ward);
  }
  // Consent: one resident with GP visits withdraws, one without consent gives it, one
  // without consent visits the GP (the visits count for them only with consent).
  // Chosen among those whose segment depends on their GP visits.
  const gpUsers = (
    db
      .prepare(
        `SELECT a.id AS id, a.resident_ref AS ref, c.granted AS granted FROM analytics_residents a
         LEFT JOIN consents c ON c.resident_ref = a.resident_ref AND c.purpose = ?
         WHERE a.g_visits > 0 AND a.x_visits > 0 ORDER BY a.resident_ref`,
      )
      .all(HEALTH_SEGMENTATION) as { id: number; ref: string; granted: number | null }[]
  ).filter(
    (u) =>
      JSON.stringify(scoreAlone(analytics, u.id, last, true)) !==
      JSON.stringify(scoreAlone(analytics, u.id, last, false)),
  );
  const withdraws = gpUsers.find((u) => u.granted === 1)?.ref;
  const gives = gpUsers.find((u) => u.granted !== 1)?.ref;
  const without = gpUsers.filter((u) => u.granted !== 1)[1]?.ref;
  if (!withdraws || !gives || !without) throw new Error('the county lacks GP users');
  analytics.adb.setConsent(withdraws, HEALTH_SEGMENTATION, false, 0);
  analytics.adb.setConsent(gives, HEALTH_SEGMENTATION, true, 0);
  const payloads = nextDay(db, last + 1, newRefs, [withdraws, gives, without, without]);
  return { analytics, last, before, newRefs, withdraws, gives, without, payloads };
}

/** Feature rows, rollups and published segments, as stored. */
function tables(db: Db): { features: unknown[]; rollup: unknown[]; segments: unknown[] } {
  return {
    features: db.prepare(FEATURES_SQL).all(),
    rollup: db.prepare(ROLLUP_SQL).all(),
    segments: db.prepare(SEGMENTS_SQL).all(),
  };
}

describe('incremental day', () => {
  it.each([
    ['written out once, by the window advance', undefined],
    [
      'written out whenever 12 visits are held, and a batch rolled back',
      { visits: 12, ms: 60_000 },
    ],
  ])(
    'leaves what a rebuild from the event log leaves, and re-scores changed residents alone (%s)',
    async (_, writeOut) => {
      const db = openBackendDb(':memory:');
      const county = await countyBeforeNextDay(db, writeOut);
      const { analytics, last, before, newRefs, withdraws, gives, without, payloads } = county;
      // Residents' rows in memory, as the backend warms them at start.
      analytics.warm();
      expect(analytics.adb.rowsWarm).toBe(true);
      expect(before.size).toBeGreaterThan(100);
      const day = last + 1;
      const applied0 = analytics.adb.storedMeta(APPLIED_EVENT_KEY) ?? 0;
      if (writeOut) {
        // A batch whose transaction rolls back after the listener has seen it (the listener
        // must drop what it held and apply the log again), then the day in batches; some
        // visits are written out before the window advance.
        const half = Math.floor(payloads.length / 2 / BATCH) * BATCH;
        ingest(analytics, payloads.slice(0, half));
        expect(() =>
          db.transaction(() => {
            const [first] = payloads;
            if (!first) throw new Error('no visits');
            const copy = { ...first, id: `${String(first.id).slice(0, -4)}ffff` };
            analytics.listener.onAccepted(insertWeekLater(db, [copy]), 0);
            throw new Error('push failed');
          })(),
        ).toThrow('push failed');
        ingest(analytics, payloads.slice(half));
        expect(analytics.adb.storedMeta(APPLIED_EVENT_KEY) ?? 0).toBeGreaterThan(applied0);
      } else {
        ingest(analytics, payloads);
        // Nothing written out yet: the position in the log has not moved.
        expect(analytics.adb.storedMeta(APPLIED_EVENT_KEY)).toBe(applied0);
      }
      expect(analytics.listener.heldVisits).toBeGreaterThan(0);
      const applied = analytics.advanceDay(day);
      expect(applied.expired).toBeGreaterThan(0);

      const features = db.prepare(FEATURES_SQL).all();
      const rollup = db.prepare(ROLLUP_SQL).all() as { residents: Buffer }[];
      const segments = db.prepare(SEGMENTS_SQL).all() as SegmentRow[];

      // Features and rollups: as rebuilt from the event log (rollup resident sets are the
      // first ids seen, so at the cap they may hold different ids; below it, the same).
      await analytics.rebuildFeatures({ workers: 0, analysisDay: day });
      expect(db.prepare(FEATURES_SQL).all()).toEqual(features);
      analytics.rebuildRollups();
      const rebuilt = db.prepare(ROLLUP_SQL).all() as { residents: Buffer }[];
      expect(rebuilt.length).toBe(rollup.length);
      const sets = (b: Buffer): number[] => {
        const ids = Array.from(decodeResidentSet(b)).sort((x, y) => x - y);
        return ids.length >= RESIDENT_SET_CAP ? [ids.length] : ids;
      };
      const plain = (rows: { residents: Buffer }[]): unknown[] =>
        rows.map((r) => ({ ...r, residents: sets(r.residents) }));
      expect(plain(rollup)).toEqual(plain(rebuilt));

      // The changed residents: everyone with a visit on the new day or on the day that left
      // the window. New residents got analytics rows.
      const ids = new Map(
        (
          db.prepare('SELECT resident_ref AS ref, id FROM analytics_residents').all() as {
            ref: string;
            id: number;
          }[]
        ).map((r) => [r.ref, r.id]),
      );
      const changed = new Set<number>();
      for (const [ref, at] of db
        .prepare("SELECT resident_ref, occurred_at FROM events WHERE type = 'visit'")
        .raw(true)
        .iterate() as Iterable<[string, string]>) {
        const d = dayOf(at);
        if (d === day || d === day - WINDOW_DAYS) changed.add(ids.get(ref) ?? -1);
      }
      for (const ref of [...newRefs, withdraws, gives, without]) {
        expect(changed.has(ids.get(ref) ?? -1)).toBe(true);
      }
      expect(applied.rescored).toBeGreaterThan(0);
      expect(applied.rescored).toBeLessThanOrEqual(changed.size);
      const expected: SegmentRow[] = [];
      for (const id of [...ids.values()].sort((a, b) => a - b)) {
        if (changed.has(id)) {
          const s = scoreAlone(analytics, id, day);
          if (s) expected.push({ resident_id: id, ...s });
        } else {
          const s = before.get(id);
          if (s) expected.push(s);
        }
      }
      expect(segments).toEqual(expected);

      // The GP-only new resident, without consent, has no countable visit: not segmented;
      // the one who gave consent is scored with their GP visits, the one who withdrew
      // without them.
      const byId = new Map(segments.map((s) => [s.resident_id, s]));
      expect(byId.has(ids.get(newRefs[1] ?? '') ?? -1)).toBe(false);
      expect(byId.has(ids.get(newRefs[0] ?? '') ?? -1)).toBe(true);
      for (const [ref, consent] of [
        [gives, true],
        [withdraws, false],
        [without, false],
      ] as const) {
        const id = ids.get(ref) ?? -1;
        const { resident_id: _, ...published } = byId.get(id) ?? { resident_id: id };
        expect(published).toEqual(scoreAlone(analytics, id, day, consent));
        expect(published).not.toEqual(scoreAlone(analytics, id, day, !consent));
      }
    },
  );

  it('catches up from the event log when the process stopped before writing out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'analytics-day-'));
    try {
      // The same county and day ingested without a stop, and with one halfway through.
      const runs: ReturnType<typeof tables>[] = [];
      for (const stop of [false, true]) {
        const file = join(dir, `county-${String(stop)}.sqlite`);
        let db = openBackendDb(file);
        const county = await countyBeforeNextDay(db);
        const half = Math.floor(county.payloads.length / 2 / BATCH) * BATCH;
        ingest(county.analytics, county.payloads.slice(0, half));
        let analytics = county.analytics;
        if (stop) {
          const held = analytics.listener.heldVisits;
          expect(held).toBeGreaterThan(0);
          // The process stops: what it held is lost, nothing was written out.
          db.close();
          db = openBackendDb(file);
          analytics = new Analytics(db);
          expect(analytics.listener.heldVisits).toBe(held);
        }
        ingest(analytics, county.payloads.slice(half));
        expect(analytics.advanceDay(county.last + 1).rescored).toBeGreaterThan(0);
        runs.push(tables(db));
        db.close();
      }
      expect(runs[1]).toEqual(runs[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes out held visits once the time threshold has passed, between batches', async () => {
    const db = openBackendDb(':memory:');
    const { analytics, payloads } = await countyBeforeNextDay(db, { visits: 1e9, ms: 30 });
    const applied0 = analytics.adb.storedMeta(APPLIED_EVENT_KEY) ?? 0;
    ingest(analytics, payloads.slice(0, BATCH * 2));
    expect(analytics.listener.heldVisits).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(analytics.listener.heldVisits).toBe(0);
    expect(analytics.adb.storedMeta(APPLIED_EVENT_KEY) ?? 0).toBeGreaterThan(applied0);
  });

  it('answers dashboard queries with the visits the listener holds', async () => {
    const db = openBackendDb(':memory:');
    const { analytics, payloads } = await countyBeforeNextDay(db);
    const q = analytics.queries;
    q.warm();
    const before = q.weeklyTrend();
    ingest(analytics, payloads);
    expect(analytics.listener.heldVisits).toBeGreaterThan(0);
    const during = q.weeklyTrend();
    expect(during).not.toEqual(before);
    // The same as another instance reading the tables from SQL afresh.
    expect(new Analytics(db).queries.weeklyTrend()).toEqual(during);
  });

  describe('residents awaiting re-scoring are kept in SQL with their rows', () => {
    /** Everything the day leaves, and how many residents it re-scored. */
    interface DayResult {
      tables: ReturnType<typeof tables>;
      rescored: number;
    }

    /**
     * The county's next day in a database file: ingested and written out by one
     * Analytics instance, then `advance` runs the daily step on the same file (returning
     * how many it re-scored).
     */
    async function dayInFile(
      advance: (db: Db, file: string, day: number, writer: Analytics) => Promise<number>,
    ): Promise<DayResult> {
      const dir = mkdtempSync(join(tmpdir(), 'analytics-rescore-'));
      try {
        const file = join(dir, 'county.sqlite');
        const db = openBackendDb(file);
        const county = await countyBeforeNextDay(db);
        ingest(county.analytics, county.payloads);
        county.analytics.listener.flush();
        expect(county.analytics.listener.heldVisits).toBe(0);
        const pending = db.prepare('SELECT COUNT(*) FROM analytics_rescore').pluck().get();
        expect(pending).toBeGreaterThan(0);
        const rescored = await advance(db, file, county.last + 1, county.analytics);
        const check = openBackendDb(file);
        try {
          // Nobody awaits re-scoring once the day is done.
          expect(check.prepare('SELECT COUNT(*) FROM analytics_rescore').pluck().get()).toBe(0);
          return { tables: tables(check), rescored };
        } finally {
          check.close();
          if (db.open) db.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    /** The day in one instance, as the first test checks it against a rebuild. */
    let reference: Promise<DayResult> | null = null;
    const oneInstance = (): Promise<DayResult> =>
      (reference ??= dayInFile((_db, _file, day, writer) =>
        Promise.resolve(writer.advanceDay(day).rescored),
      ));

    /** The daily step in a new Analytics instance over the file, as the CLI opens it. */
    const advanceInNewInstance = (file: string, day: number): Promise<number> => {
      const db = openBackendDb(file);
      try {
        const analytics = new Analytics(db);
        // Nothing is left to apply again from the event log: everything was written out.
        expect(analytics.listener.heldVisits).toBe(0);
        return Promise.resolve(analytics.advanceDay(day).rescored);
      } finally {
        db.close();
      }
    };

    /** The same residents re-scored, and the same tables, as in one instance. */
    const expectAsInOneInstance = async (day: DayResult): Promise<void> => {
      const ref = await oneInstance();
      expect(ref.rescored).toBeGreaterThan(0);
      expect(day.rescored).toBe(ref.rescored);
      expect(day.tables).toEqual(ref.tables);
    };

    it('re-scores them when another instance over the database runs the daily step', async () => {
      // The backend keeps running; the daily step runs in a process of its own.
      await expectAsInOneInstance(
        await dayInFile((_db, file, day) => advanceInNewInstance(file, day)),
      );
    });

    it('re-scores them after the process stopped between a write-out and the daily step', async () => {
      await expectAsInOneInstance(
        await dayInFile((db, file, day) => {
          // Stopped without the daily step or closing analytics (a crash).
          db.close();
          return advanceInNewInstance(file, day);
        }),
      );
    });

    it('keeps them awaiting when the daily step fails, and re-scores them on the next', async () => {
      const retried = await dayInFile((db, _file, day, writer) => {
        const awaiting = db
          .prepare('SELECT resident_id FROM analytics_rescore ORDER BY resident_id')
          .pluck()
          .all();
        const segments = db.prepare(SEGMENTS_SQL).all();
        // Publishing a segment fails part-way through the step.
        db.exec(`CREATE TEMP TRIGGER fail_publish BEFORE INSERT ON analytics_segments
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
        expect(() => writer.advanceDay(day)).toThrow('disk full');
        db.exec('DROP TRIGGER fail_publish');
        expect(
          db
            .prepare('SELECT resident_id FROM analytics_rescore ORDER BY resident_id')
            .pluck()
            .all(),
        ).toEqual(awaiting);
        expect(db.prepare(SEGMENTS_SQL).all()).toEqual(segments);
        return Promise.resolve(writer.advanceDay(day).rescored);
      });
      await expectAsInOneInstance(retried);
    });

    it('re-scores them when `clubcard analytics advance` runs the daily step', async () => {
      const cli = await dayInFile(async (db, file, day, writer) => {
        writer.close();
        db.close();
        const r = await runClubcard(
          '--db',
          file,
          'analytics',
          'advance',
          '--date',
          isoDateOfDay(day),
        );
        expect(r.code).toBe(0);
        const out = JSON.parse(r.stdout) as { expired: number; rescored: number };
        expect(out.expired).toBeGreaterThan(0);
        return out.rescored;
      });
      await expectAsInOneInstance(cli);
    });

    it('are cleared by a full segmentation run and by a rebuild', async () => {
      const db = openBackendDb(':memory:');
      const { analytics, payloads } = await countyBeforeNextDay(db);
      const awaiting = (): unknown =>
        db.prepare('SELECT COUNT(*) FROM analytics_rescore').pluck().get();
      const half = Math.floor(payloads.length / 2 / BATCH) * BATCH;
      ingest(analytics, payloads.slice(0, half));
      analytics.listener.flush();
      expect(awaiting()).toBeGreaterThan(0);
      analytics.segment({ fitSample: 700, silhouetteSample: 300, kMin: 3, kMax: 5 });
      expect(awaiting()).toBe(0);
      ingest(analytics, payloads.slice(half));
      analytics.listener.flush();
      expect(awaiting()).toBeGreaterThan(0);
      await analytics.rebuildFeatures({ workers: 0 });
      expect(awaiting()).toBe(0);
    });
  });
});
