import { describe, expect, it } from 'vitest';
import {
  AppError,
  VisitEventSchema,
  newEventId,
  type VolunteeredAttribute,
} from '@clubcard/shared';
import { ConsentService } from '../consent/consent-service.js';
import { openBackendDb } from '../db/open.js';
import { Analytics } from './analytics.js';
import { dayOfIsoDate } from './london-slots.js';
import type { AnalyticsFilters } from './queries.js';

/**
 * A small council: 40 residents aged 45–64 in ward castle swim on Saturdays in March
 * 2025. Some have volunteered that they are carers; some of those consent to analytics.
 */
function world(o: { consenting: number; notConsenting: number }): {
  analytics: Analytics;
  consents: ConsentService;
  refs: string[];
} {
  const db = openBackendDb(':memory:');
  db.exec(`
    INSERT INTO services (id, name, kind) VALUES ('s-swim', 'Swimming', 'leisure');
    INSERT INTO venues (id, name, type, ward) VALUES ('v-castle-pool', 'Castle pool', 'leisure-centre', 'castle');
  `);
  const refs = Array.from({ length: 40 }, (_, i) => `r-castle${String(i).padStart(4, '0')}`);
  const add = db.prepare(
    "INSERT INTO residents (ref, first_name, age_band, ward, created_at) VALUES (?, NULL, '45-64', 'castle', 0)",
  );
  for (const r of refs) add.run(r);
  const analytics = new Analytics(db);
  let seq = 0;
  for (const day of ['01', '08', '15', '22']) {
    for (const ref of refs) {
      const event = VisitEventSchema.parse({
        id: newEventId(),
        kioskId: 'k-test',
        seq: ++seq,
        occurredAt: `2025-03-${day}T09:30:00.000Z`,
        venueId: 'v-castle-pool',
        type: 'visit',
        cardHash: 'a'.repeat(64),
        residentRef: ref,
        serviceId: 's-swim',
        auth: { method: 'simulated', keyVersion: null, counter: null },
        assisted: false,
      });
      db.transaction(() => analytics.listener.onAccepted([{ event, serviceKind: 'leisure' }], 0))();
    }
  }
  analytics.segment({ analysisDay: dayOfIsoDate('2025-03-31'), kMin: 2, kMax: 2 });
  const consents = new ConsentService(db);
  const carers = refs.slice(0, o.consenting + o.notConsenting);
  for (const [i, ref] of carers.entries()) {
    consents.setAttributes(ref, [{ attribute: 'carer', volunteered: true }]);
    if (i < o.consenting) consents.setConsent(ref, 'analytics', true);
  }
  return { analytics, consents, refs };
}

const range = { from: '2025-02-24', to: '2025-03-30' };
const carers: AnalyticsFilters = { ...range, serviceId: 's-swim', attribute: 'carer' };

describe('attribute filters', () => {
  it('count only residents who volunteered the attribute and consent to analytics', () => {
    const w = world({ consenting: 20, notConsenting: 8 });
    const cell = w.analytics.queries.takeUp(carers).cells[0];
    expect(cell).toMatchObject({ ageBand: '45-64', ward: 'castle', population: 20, users: 20 });
    expect(cell?.rate).toBe(1);
    // Everyone, for comparison: 40 of 40.
    expect(w.analytics.queries.takeUp({ ...range, serviceId: 's-swim' }).cells[0]).toMatchObject({
      population: 40,
      users: 40,
    });
    const seg = w.analytics.queries.segmentSizes({ attribute: 'carer' });
    const total = [...seg.rfm, ...seg.behavioural].reduce((n, s) => n + (s.residents ?? 0), 0);
    expect(total).toBeLessThanOrEqual(40); // RFM + behavioural each count the 20 at most
    expect(seg.behavioural.reduce((n, s) => n + (s.residents ?? 0), 0)).toBe(20);
  });

  it('stop counting a resident at once when they withdraw consent or the attribute', () => {
    const w = world({ consenting: 22, notConsenting: 0 });
    expect(w.analytics.queries.takeUp(carers).cells[0]?.users).toBe(22);
    w.consents.setConsent(w.refs[0]!, 'analytics', false);
    expect(w.analytics.queries.takeUp(carers).cells[0]).toMatchObject({
      population: 21,
      users: 21,
    });
    w.consents.setAttributes(w.refs[1]!, [{ attribute: 'carer', volunteered: false }]);
    expect(w.analytics.queries.takeUp(carers).cells[0]?.users).toBe(20);
    expect(
      w.analytics.queries
        .segmentSizes({ attribute: 'carer' })
        .behavioural.reduce((n, s) => n + (s.residents ?? 0), 0),
    ).toBe(20);
  });

  it('defeat the "everyone minus the attribute" difference', () => {
    // 34 of 40 consenting carers: the ward total minus the carers would be 6 residents.
    const w = world({ consenting: 34, notConsenting: 0 });
    const cell = w.analytics.queries.takeUp(carers).cells[0];
    expect(cell).toMatchObject({ population: null, users: null, rate: null });
    const seg = w.analytics.queries.segmentSizes({ attribute: 'carer' });
    const all = w.analytics.queries.segmentSizes({});
    expect(seg.behavioural.length).toBe(2);
    for (const [i, s] of seg.behavioural.entries()) {
      const everyone = all.behavioural[i]?.residents ?? 0;
      if (s.residents !== null)
        expect(everyone - s.residents === 0 || everyone - s.residents >= 10).toBe(true);
    }
    // Fewer than k holders: suppressed outright.
    const few = world({ consenting: 5, notConsenting: 20 });
    expect(few.analytics.queries.takeUp(carers).cells[0]).toMatchObject({
      population: null,
      users: null,
    });
  });

  it('are refused where they cannot apply, and outside the closed set', () => {
    const w = world({ consenting: 20, notConsenting: 0 });
    expect(() => w.analytics.queries.usageHeatmap(carers)).toThrow(AppError);
    expect(() => w.analytics.queries.weeklyTrend(carers)).toThrow(/take-up and segment sizes/);
    expect(() =>
      w.analytics.queries.takeUp({ ...range, attribute: 'religion' as VolunteeredAttribute }),
    ).toThrow();
  });
});
