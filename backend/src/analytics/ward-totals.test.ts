import { describe, expect, it } from 'vitest';
import { openBackendDb } from '../db/open.js';
import { generateCounty } from '../demo/county.js';
import { Analytics } from './analytics.js';
import type { AnalyticsFilters } from './queries.js';

/**
 * The neighbourhoods table's visits per ward come from one scan of the cube; they must
 * be exactly what the weekly trend filtered to each ward would publish, suppression
 * included.
 */
describe('visit totals of every ward at once', () => {
  const db = openBackendDb(':memory:');
  generateCounty(db, { residents: 1500, seed: 11, cardHashKey: '22'.repeat(32) });
  const analytics = new Analytics(db);
  analytics.rebuildRollups();
  const q = analytics.queries;
  const venues = db.prepare('SELECT id FROM venues ORDER BY id').pluck().all() as string[];
  const venue = venues[0] ?? '';
  const week = { from: '2025-11-24', to: '2025-11-30' };
  const filters: AnalyticsFilters[] = [
    // One venue in one week: the venue's own ward dominates, so relaxing the ward (every
    // other ward) and the ward family both come into play.
    ...venues.map((venueId) => ({ venueId, ...week })),
    { ageBand: '75+', ...week },
    { serviceId: 's-gp-drop-in', ageBand: '0-12', ...week },
    {},
    { serviceId: 's-library' },
    { ageBand: '75+' },
    { venueId: venue },
    { serviceId: 's-swim', ageBand: '13-19' },
    { venueId: venue, serviceId: 's-library', ageBand: '65-74' },
    { from: '2025-11-24', to: '2025-11-30' },
    { serviceId: 's-gym', from: '2025-06-01', to: '2025-06-30' },
  ];

  it('equal the weekly trend filtered to each ward, for every filter and k', () => {
    const wards = db
      .prepare("SELECT key FROM analytics_codes WHERE kind = 'ward'")
      .pluck()
      .all() as string[];
    expect(wards.length).toBeGreaterThanOrEqual(4);
    let hidden = 0;
    let shown = 0;
    for (const f of filters) {
      for (const k of [5, 10, 16]) {
        const totals = q.wardVisitTotals(f, { k });
        expect([...totals.keys()].sort()).toEqual([...wards].sort());
        for (const ward of wards) {
          const expected = q.weeklyTrend({ ...f, ward }, { k }).totalVisits;
          expect(totals.get(ward), `${JSON.stringify(f)} k=${k} ${ward}`).toBe(expected);
          if (expected === null) hidden++;
          else if (expected > 0) shown++;
        }
      }
    }
    // Both outcomes occur, so the comparison covers suppression as well as publication.
    expect(hidden).toBeGreaterThan(5);
    expect(shown).toBeGreaterThan(5);
  });

  it('refuses the attribute filter like the trend does', () => {
    expect(() => q.wardVisitTotals({ attribute: 'carer' })).toThrow(/take-up and segment sizes/);
  });
});
