import { describe, expect, it } from 'vitest';
import { VisitEventSchema, newEventId, type ServiceKind, type VisitEvent } from '@clubcard/shared';
import { openBackendDb } from '../db/open.js';
import { Analytics } from './analytics.js';

/**
 * A tiny council: ward riverside has 30 residents aged 30–44 and 3 aged 75+, all using
 * the riverside library on Tuesday mornings; ward castle has 40 residents aged 45–64 who
 * swim on Saturdays.
 */
function world(): {
  analytics: Analytics;
  visit: (ref: string, venue: string, service: string, at: string) => void;
} {
  const db = openBackendDb(':memory:');
  db.exec(`
    INSERT INTO services (id, name, kind) VALUES ('s-library', 'Library', 'library'), ('s-swim', 'Swimming', 'leisure');
    INSERT INTO venues (id, name, type, ward) VALUES ('v-river-library', 'River library', 'library', 'riverside'),
      ('v-castle-pool', 'Castle pool', 'leisure-centre', 'castle');
  `);
  const add = db.prepare(
    'INSERT INTO residents (ref, first_name, age_band, ward, created_at) VALUES (?, NULL, ?, ?, 0)',
  );
  const refs: { ref: string; band: string; ward: string }[] = [];
  for (let i = 0; i < 30; i++)
    refs.push({ ref: `r-young${String(i).padStart(4, '0')}`, band: '30-44', ward: 'riverside' });
  for (let i = 0; i < 3; i++)
    refs.push({ ref: `r-older${String(i).padStart(4, '0')}`, band: '75+', ward: 'riverside' });
  for (let i = 0; i < 40; i++)
    refs.push({ ref: `r-castle${String(i).padStart(4, '0')}`, band: '45-64', ward: 'castle' });
  for (const r of refs) add.run(r.ref, r.band, r.ward);
  const analytics = new Analytics(db);
  let seq = 0;
  const kinds: Record<string, ServiceKind> = { 's-library': 'library', 's-swim': 'leisure' };
  const visit = (ref: string, venue: string, service: string, at: string): void => {
    const event: VisitEvent = VisitEventSchema.parse({
      id: newEventId(),
      kioskId: 'k-test',
      seq: ++seq,
      occurredAt: at,
      venueId: venue,
      type: 'visit',
      cardHash: 'a'.repeat(64),
      residentRef: ref,
      serviceId: service,
      auth: { method: 'simulated', keyVersion: null, counter: null },
      assisted: false,
    });
    db.transaction(() =>
      analytics.listener.onAccepted([{ event, serviceKind: kinds[service] ?? 'library' }], 0),
    )();
  };
  // Four Tuesdays in March 2025 (GMT): 10:xx London = 10:xx UTC.
  for (const day of ['04', '11', '18', '25']) {
    for (const r of refs) {
      if (r.ward === 'riverside')
        visit(r.ref, 'v-river-library', 's-library', `2025-03-${day}T10:15:00.000Z`);
    }
  }
  // Saturdays 1, 8, 15, 22 March, 09:xx.
  for (const day of ['01', '08', '15', '22']) {
    for (const r of refs)
      if (r.ward === 'castle')
        visit(r.ref, 'v-castle-pool', 's-swim', `2025-03-${day}T09:30:00.000Z`);
  }
  return { analytics, visit };
}

const range = { from: '2025-02-24', to: '2025-03-30' };
const TUE_10 = 1 * 24 + 10;

describe('analytics queries and k-anonymity', () => {
  it('publishes cells with at least k residents and puts visits in London hour-of-week cells', () => {
    const { analytics } = world();
    const h = analytics.queries.usageHeatmap(range);
    expect(h.cells[TUE_10]?.visits).toBe(33 * 4);
    expect(h.cells[5 * 24 + 9]?.visits).toBe(40 * 4);
    expect(h.totalVisits).toBe(73 * 4);
    expect(h.weeks).toEqual({ fromWeek: '2025-02-24', toWeek: '2025-03-24' });
  });

  it('suppresses a cell behind fewer than k residents', () => {
    const { analytics } = world();
    const h = analytics.queries.usageHeatmap({ ...range, ageBand: '75+' });
    expect(h.cells[TUE_10]?.visits).toBeNull();
    expect(h.totalVisits).toBeNull();
    const t = analytics.queries.weeklyTrend({ ...range, ageBand: '75+' });
    expect(t.points.every((p) => p.visits === null || p.visits === 0)).toBe(true);
  });

  it('defeats the ward total minus one age band attack', () => {
    const { analytics } = world();
    const q = analytics.queries;
    // The ward total is published (33 residents)…
    const ward = q.usageHeatmap({ ...range, ward: 'riverside' });
    expect(ward.totalVisits).toBe(33 * 4);
    // …so the same total for everyone but the 75+ must not be, or ward − it = the 3 residents.
    const others = q.usageHeatmap({ ...range, ward: 'riverside', ageBand: '30-44' });
    expect(others.totalVisits).toBeNull();
    expect(others.cells[TUE_10]?.visits).toBeNull();
    // Summing every age band's answer cannot rebuild the hidden one either.
    let visible = 0;
    for (const band of ['0-12', '13-19', '20-29', '30-44', '45-64', '65-74', '75+'] as const) {
      const a = q.usageHeatmap({ ...range, ward: 'riverside', ageBand: band });
      visible += a.totalVisits ?? 0;
    }
    expect(ward.totalVisits ?? 0).toBeGreaterThan(visible);
    expect((ward.totalVisits ?? 0) - visible).not.toBe(3 * 4);
    // Weekly trend: the same protection.
    const tw = q.weeklyTrend({ ...range, ward: 'riverside' });
    const to = q.weeklyTrend({ ...range, ward: 'riverside', ageBand: '30-44' });
    tw.points.forEach((p, i) => {
      const o = to.points[i]?.visits;
      if (p.visits !== null && p.visits > 0 && o !== null && o !== undefined) {
        throw new Error(`week ${p.weekStart}: ${p.visits} − ${o} would reveal the 75+ residents`);
      }
    });
    // Take-up by age band in the ward: the 3 residents' cell and its complement are hidden.
    const tu = q.takeUp({ ...range, ward: 'riverside' });
    const young = tu.cells.find((c) => c.ageBand === '30-44');
    const old = tu.cells.find((c) => c.ageBand === '75+');
    expect(old?.users).toBeNull();
    expect(young?.users).toBeNull();
  });

  it('publishes take-up where every cell and complement is large enough', () => {
    const { analytics } = world();
    const tu = analytics.queries.takeUp({ ...range, ward: 'castle' });
    expect(tu.cells).toEqual([
      { ageBand: '45-64', ward: 'castle', population: 40, users: 40, rate: 1 },
    ]);
    const swim = analytics.queries.takeUp({ ...range, ward: 'castle', serviceId: 's-library' });
    // Nobody in castle used the library: 0 users of 40 (the 40 non-users are ≥ k).
    expect(swim.cells[0]?.users).toBe(0);
  });

  it('keeps its in-memory copy in step with ingestion', () => {
    const { analytics, visit } = world();
    expect(analytics.queries.usageHeatmap(range).totalVisits).toBe(73 * 4);
    for (let i = 0; i < 40; i++) {
      visit(
        `r-castle${String(i).padStart(4, '0')}`,
        'v-castle-pool',
        's-swim',
        '2025-03-29T09:30:00.000Z',
      );
    }
    const warm = analytics.queries.usageHeatmap(range);
    expect(warm.totalVisits).toBe(73 * 4 + 40);
    analytics.queries.invalidate();
    expect(analytics.queries.usageHeatmap(range)).toEqual(warm);
  });

  it('segments residents and reports sizes with small cells suppressed', () => {
    const { analytics } = world();
    const s = analytics.segment({
      analysisDay: Math.floor(Date.parse('2025-03-31') / 86_400_000),
      kMin: 2,
      kMax: 3,
    });
    expect(s.segmented).toBe(73);
    const sizes = analytics.queries.segmentSizes();
    const total = sizes.behavioural.reduce((t, b) => t + (b.residents ?? 0), 0);
    expect(total).toBeLessThanOrEqual(73);
    const old = analytics.queries.segmentSizes({ ageBand: '75+' });
    expect(old.behavioural.every((b) => b.residents === null || b.residents === 0)).toBe(true);
    const profiles = analytics.queries.segmentProfiles();
    expect(profiles.segments.length).toBe(s.k);
    expect(JSON.stringify(profiles)).not.toMatch(/r-(young|older|castle)/);
  });

  it('withholds a neighbourhood total that all but fewer than k residents of a venue make', () => {
    // Three castle swimmers also use the riverside library: relaxing the ward of
    // "riverside library visits in riverside" adds just them.
    const { analytics, visit } = world();
    for (let i = 0; i < 3; i++) {
      const ref = `r-castle${String(i).padStart(4, '0')}`;
      visit(ref, 'v-river-library', 's-library', '2025-03-04T11:15:00.000Z');
    }
    const f = { ...range, venueId: 'v-river-library' };
    const totals = analytics.queries.wardVisitTotals(f);
    expect(totals.get('riverside')).toBeNull();
    expect(analytics.queries.weeklyTrend({ ...f, ward: 'riverside' }).totalVisits).toBeNull();
    // Without the venue filter, the other ward adds 40 residents: both published.
    const all = analytics.queries.wardVisitTotals(range);
    expect(all.get('riverside')).toBe(33 * 4);
    expect(all.get('castle')).toBe(40 * 4 + 3);
  });
});
