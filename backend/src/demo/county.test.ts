import { describe, expect, it } from 'vitest';
import { VisitEventSchema, type ServiceKind } from '@clubcard/shared';
import { openBackendDb, type Db } from '../db/open.js';
import { Analytics } from '../analytics/analytics.js';
import { FEATURE_COLUMNS } from '../analytics/model.js';
import { newestEventDay } from '../analytics/rebuild.js';
import { generateCounty } from './county.js';

const KEY = '11'.repeat(32);

function county(residents: number, seed = 5): Db {
  const db = openBackendDb(':memory:');
  generateCounty(db, { residents, seed, cardHashKey: KEY });
  return db;
}

describe('synthetic county', () => {
  it('is seeded: the same options give the same events', () => {
    const a = county(300);
    const b = county(300);
    const q =
      'SELECT id, kiosk_id, seq, occurred_at, resident_ref, payload FROM events ORDER BY id';
    expect(a.prepare(q).all()).toEqual(b.prepare(q).all());
    const c = county(300, 6);
    expect(c.prepare(q).all()).not.toEqual(a.prepare(q).all());
  });

  it('writes visit events the normal code can read, with patterns by age', () => {
    const db = county(800);
    const events = db
      .prepare("SELECT payload, kiosk_id, seq FROM events WHERE type = 'visit'")
      .all() as {
      payload: string;
      kiosk_id: string;
      seq: number;
    }[];
    // About 23.5 visits a resident a year.
    expect(events.length).toBeGreaterThan(800 * 15);
    expect(events.length).toBeLessThan(800 * 35);
    for (const e of events.slice(0, 500)) {
      const v = VisitEventSchema.parse(JSON.parse(e.payload));
      expect(v.kioskId).toBe(e.kiosk_id);
      expect(v.seq).toBe(e.seq);
    }
    // Kiosk sequences are gap-free from 1.
    const gaps = db
      .prepare('SELECT kiosk_id, COUNT(*) AS n, MAX(seq) AS top FROM events GROUP BY kiosk_id')
      .all() as { n: number; top: number }[];
    for (const g of gaps) expect(g.top).toBe(g.n);
    // Libraries are busiest with older residents on weekday mornings, not at night.
    const lib = db
      .prepare(
        `SELECT r.age_band AS band, COUNT(*) AS n FROM events e JOIN residents r ON r.ref = e.resident_ref
         WHERE e.service_id = 's-library' GROUP BY 1`,
      )
      .all() as { band: string; n: number }[];
    const by = new Map(lib.map((x) => [x.band, x.n]));
    expect(by.get('65-74') ?? 0).toBeGreaterThan(by.get('20-29') ?? 0);
    // No visit falls outside the venue's opening hours (libraries close on Sundays).
    const sunday = db
      .prepare(
        "SELECT COUNT(*) AS n FROM events WHERE service_id = 's-library' AND strftime('%w', occurred_at) = '0'",
      )
      .get() as { n: number };
    expect(sunday.n).toBe(0);
  });

  it('builds the same feature rows at ingestion as a rebuild from the event log', async () => {
    const db = county(400);
    const analytics = new Analytics(db);
    const rebuilt = await analytics.rebuildFeatures({ workers: 0 });
    const cols = `resident_ref, age, ward, ${FEATURE_COLUMNS.join(', ')}, hex(usage) AS usage`;
    const fromLog = db
      .prepare(
        `SELECT ${cols} FROM analytics_residents WHERE x_visits + g_visits > 0 ORDER BY resident_ref`,
      )
      .all();
    // Wipe the features, then feed every event through the ingestion listener.
    db.exec("UPDATE analytics_residents SET x_visits = 0, g_visits = 0, usage = X''");
    db.exec('DELETE FROM analytics_residents');
    analytics.adb.forgetResidents();
    const kinds = new Map(
      (
        db.prepare('SELECT id, kind FROM services').all() as { id: string; kind: ServiceKind }[]
      ).map((s) => [s.id, s.kind]),
    );
    const payloads = db
      .prepare('SELECT payload FROM events ORDER BY rowid DESC')
      .pluck()
      .all() as string[];
    for (let i = 0; i < payloads.length; i += 200) {
      const batch = payloads.slice(i, i + 200).map((p) => {
        const event = VisitEventSchema.parse(JSON.parse(p));
        return { event, serviceKind: kinds.get(event.serviceId) ?? 'library' };
      });
      db.transaction(() => analytics.listener.onAccepted(batch, 0))();
    }
    // The listener holds its changes in memory until written out.
    analytics.listener.flush();
    const live = db
      .prepare(
        `SELECT ${cols} FROM analytics_residents WHERE x_visits + g_visits > 0 ORDER BY resident_ref`,
      )
      .all();
    expect(live.length).toBe(fromLog.length);
    expect(live).toEqual(fromLog);
    expect(rebuilt.visits).toBe(payloads.length);
  });

  it('moves the feature window day by day exactly as a rebuild at the new day would', async () => {
    const db = county(400);
    const analytics = new Analytics(db);
    const last = newestEventDay(analytics.adb) ?? 0;
    await analytics.rebuildFeatures({ workers: 0, analysisDay: last });
    analytics.segment({ fitSample: 400, silhouetteSample: 200, kMin: 2, kMax: 4 });
    let expired = 0;
    for (let d = last + 1; d <= last + 20; d++) expired += analytics.advanceDay(d).expired;
    expect(expired).toBeGreaterThan(0);
    const q = `SELECT resident_ref, ${FEATURE_COLUMNS.join(', ')}, hex(usage) AS usage FROM analytics_residents ORDER BY resident_ref`;
    const stepped = db.prepare(q).all();
    await analytics.rebuildFeatures({ workers: 0, analysisDay: last + 20 });
    expect(db.prepare(q).all()).toEqual(stepped);
  });

  it('segments the county the same way on every run', async () => {
    const db = county(1500);
    const analytics = new Analytics(db);
    await analytics.rebuildFeatures({ workers: 0 });
    const a = analytics.segment({ fitSample: 1500, silhouetteSample: 500 });
    const rows = db.prepare('SELECT * FROM analytics_segments ORDER BY resident_id').all();
    const b = analytics.segment({ fitSample: 1500, silhouetteSample: 500 });
    expect(b).toEqual(a);
    expect(db.prepare('SELECT * FROM analytics_segments ORDER BY resident_id').all()).toEqual(rows);
    expect(a.k).toBeGreaterThanOrEqual(4);
    expect(a.behavioural.map((s) => s.description).join('|')).toMatch(/library|leisure/);
  });
});
