import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AppError,
  HEADER,
  PROTOCOL_VERSION,
  PullPageSchema,
  cardHashOf,
  newEventId,
  publicKeyFromB64,
  signRequest,
  verifyBytes,
} from '@clubcard/shared';
import { pullPage } from '../sync/pull.js';
import type { OfferService } from './offer-service.js';
import { startCountyBackend, type CountyBackend } from './test-backend.js';

let ctx: CountyBackend & { offers: OfferService; analyst: string };

beforeEach(async () => {
  const b = await startCountyBackend();
  ctx = Object.assign(b, { offers: b.services.offers, analyst: b.analystToken });
});

afterEach(async () => {
  await ctx.close();
});

/** The behavioural cluster a resident was put in (test oracle only). */
function clusterOf(ref: string): string {
  const r = ctx.store.db
    .prepare(
      `SELECT s.cluster FROM analytics_segments s JOIN analytics_residents a ON a.id = s.resident_id
       WHERE a.resident_ref = ?`,
    )
    .get(ref) as { cluster: number };
  return `cluster:${r.cluster}`;
}

const march = { startsOn: '2025-03-01', endsOn: '2025-03-31' };
const title = { en: 'Free swim for a friend', cy: 'Nofio am ddim i ffrind' };

function rows(table: string): number {
  return (ctx.store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

const call = (
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; json: unknown }> => ctx.call(method, path, token, body);

describe('offer service', () => {
  it('targets a segment and counts take-up from feature rows', () => {
    const swim = ctx.offers.create(
      { title, segmentId: clusterOf(ctx.county.regulars[0]!), serviceId: 's-swim', ...march },
      'ana',
    );
    expect(swim).toMatchObject({
      title: title.en,
      service: 's-swim',
      startsOn: '2025-03-01',
      endsOn: '2025-03-31',
      status: 'active',
      targeted: 24,
      tookUp: 24,
    });
    expect(swim.segmentLabel).toMatch(/leisure/);
    // The lapsed did not go back to the library in March: none took it up.
    const library = ctx.offers.create(
      { title, segmentId: clusterOf(ctx.county.lapsed[0]!), serviceId: 's-library', ...march },
      'ana',
    );
    expect(library).toMatchObject({ targeted: 24, tookUp: 0 });
    // No service: a visit to anything counts; the regulars all swam in March.
    const any = ctx.offers.create(
      { title, segmentId: clusterOf(ctx.county.regulars[0]!), startsOn: '2025-03-01' },
      'ana',
    );
    expect(any).toMatchObject({ service: null, endsOn: null, tookUp: 24 });
    expect(ctx.offers.list().offers.map((o) => o.id)).toEqual(
      expect.arrayContaining([swim.id, library.id, any.id]),
    );
  });

  it('suppresses a take-up of fewer than k, and one whose complement is fewer than k', () => {
    const gym = ctx.offers.create(
      { title, segmentId: clusterOf(ctx.county.regulars[0]!), serviceId: 's-gym', ...march },
      'ana',
    );
    // Four regulars used the gym in March: 4 < k.
    expect(gym).toMatchObject({ targeted: 24, tookUp: null });
    // 20 more regulars go to the gym: 24 of 24 is visible again …
    for (const ref of ctx.county.regulars.slice(4)) {
      ctx.county.visit(ref, 'v-riverside-leisure', 's-gym', '2025-03-13T18:00:00.000Z');
    }
    expect(ctx.offers.list().offers.find((o) => o.id === gym.id)?.tookUp).toBe(24);
    // … but in February only those 20 did, and 24 − 20 = 4 residents would be exposed.
    for (const ref of ctx.county.regulars.slice(4)) {
      ctx.county.visit(ref, 'v-riverside-leisure', 's-gym', '2025-02-13T18:00:00.000Z');
    }
    const feb = ctx.offers.create(
      {
        title,
        segmentId: clusterOf(ctx.county.regulars[0]!),
        serviceId: 's-gym',
        startsOn: '2025-02-10',
        endsOn: '2025-02-16',
      },
      'ana',
    );
    expect(feb).toMatchObject({ targeted: 24, tookUp: null });
  });

  it('withholds two take-ups of the same residents whose difference is fewer than k', () => {
    const regulars = ctx.county.regulars;
    // 14 regulars borrowed books in the week of 10 February, 10 of them again the next week.
    for (const ref of regulars.slice(0, 14)) {
      ctx.county.visit(ref, 'v-central-library', 's-library', '2025-02-11T10:00:00.000Z');
    }
    for (const ref of regulars.slice(0, 10)) {
      ctx.county.visit(ref, 'v-central-library', 's-library', '2025-02-18T10:00:00.000Z');
    }
    const segmentId = clusterOf(regulars[0]!);
    const week = (startsOn: string, endsOn: string) =>
      ctx.offers.create({ title, segmentId, serviceId: 's-library', startsOn, endsOn }, 'ana');
    const first = week('2025-02-10', '2025-02-16');
    // Alone, 14 of 24 is safe (14 and 10 are both at least k) …
    expect(first.tookUp).toBe(14);
    // … but with 10 of 24 the next week, the difference is 4 residents: both are withheld.
    const second = week('2025-02-17', '2025-02-23');
    expect(second.tookUp).toBeNull();
    const listed = new Map(ctx.offers.list().offers.map((o) => [o.id, o]));
    expect(listed.get(first.id)?.tookUp).toBeNull();
    expect(listed.get(second.id)?.targeted).toBe(24);
    // Offers to other residents are not affected.
    const lapsed = ctx.offers.create(
      { title, segmentId: clusterOf(ctx.county.lapsed[0]!), ...march },
      'ana',
    );
    expect(lapsed.tookUp).toBe(0);
  });

  it('refuses a segment smaller than k, and bad input, storing nothing', () => {
    const small = ctx.offers.segments().find((s) => !s.targetable);
    expect(small).toBeDefined();
    const cursor = ctx.store.latestCursor();
    expect(() =>
      ctx.offers.create({ title, segmentId: small!.segmentId, ...march }, 'ana'),
    ).toThrow(/fewer than 10 residents/);
    const good = { title, segmentId: clusterOf(ctx.county.regulars[0]!), ...march };
    const bad: unknown[] = [
      { ...good, title: { en: 'Only English' } },
      { ...good, title: { en: 'x'.repeat(201), cy: 'y' } },
      { ...good, title: { en: '  ', cy: 'y' } },
      { ...good, endsOn: '2025-02-01' },
      { ...good, startsOn: '1 March' },
      { ...good, segmentId: 'cluster:7' },
      { ...good, segmentId: 'rfm:nobody' },
      { ...good, segmentId: '1; DROP TABLE offers' },
      { ...good, serviceId: 's-nowhere' },
      { ...good, status: 'retired' },
      { ...good, targeted: 1_000_000 },
      null,
      'offer',
    ];
    for (const b of bad) {
      let err: unknown = null;
      try {
        ctx.offers.create(b, 'ana');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(b)).not.toBeNull();
    }
    expect(rows('offers')).toBe(0);
    expect(rows('offer_targets')).toBe(0);
    expect(ctx.store.latestCursor()).toBe(cursor);
  });

  it('retires an offer once, telling kiosks about the offer and everyone it targeted', () => {
    const o = ctx.offers.create(
      { title, segmentId: clusterOf(ctx.county.regulars[0]!), ...march },
      'ana',
    );
    const cursor = ctx.store.latestCursor();
    expect(ctx.offers.retire(o.id).status).toBe('retired');
    const feed = ctx.store.changesSince(cursor, 1000);
    expect(feed.filter((c) => (c.kind as string) === 'offer')).toHaveLength(1);
    expect(feed.filter((c) => (c.kind as string) === 'offer-resident')).toHaveLength(24);
    // Again: nothing new.
    expect(ctx.offers.retire(o.id).status).toBe('retired');
    expect(ctx.store.latestCursor()).toBe(feed[feed.length - 1]!.cursor);
    expect(() => ctx.offers.retire('of-nothere')).toThrow(AppError);
    expect(() => ctx.offers.retire('../etc')).toThrow();
  });

  it('says so when no segments are published yet', () => {
    ctx.store.db.exec('DELETE FROM analytics_segment_runs');
    expect(() => ctx.offers.create({ title, segmentId: 'rfm:lost', ...march }, 'ana')).toThrow(
      /no segments are published/,
    );
  });
});

describe('offers API', () => {
  it('lets analysts create, list and retire offers in the dashboard’s shape', async () => {
    const segments = await call('GET', '/api/v1/offers/segments', ctx.analyst);
    expect(segments.status).toBe(200);
    const created = await call('POST', '/api/v1/offers', ctx.analyst, {
      title,
      detail: { en: 'Bring a friend on Saturday', cy: 'Dewch â ffrind ddydd Sadwrn' },
      segmentId: clusterOf(ctx.county.regulars[0]!),
      serviceId: 's-swim',
      ...march,
    });
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    const list = await call('GET', '/api/v1/offers', ctx.analyst);
    expect(list.status).toBe(200);
    const offers = (list.json as { offers: Record<string, unknown>[] }).offers;
    expect(offers).toHaveLength(1);
    expect(Object.keys(offers[0]!).sort()).toEqual(
      [
        'id',
        'title',
        'segmentId',
        'segmentLabel',
        'service',
        'startsOn',
        'endsOn',
        'status',
        'targeted',
        'tookUp',
      ].sort(),
    );
    expect(offers[0]).toMatchObject({ id, title: title.en, targeted: 24, tookUp: 24 });
    const retired = await call('POST', `/api/v1/offers/${id}/retire`, ctx.adminToken);
    expect(retired.status).toBe(200);
    expect((retired.json as { status: string }).status).toBe('retired');
  });

  it('refuses the signed-out, bad bodies and oversized bodies, changing nothing', async () => {
    const body = { title, segmentId: clusterOf(ctx.county.regulars[0]!), ...march };
    expect((await call('GET', '/api/v1/offers', null)).status).toBe(401);
    expect((await call('POST', '/api/v1/offers', null, body)).status).toBe(401);
    expect((await call('POST', '/api/v1/offers', 'not-a-real-token-at-all-xyz', body)).status).toBe(
      401,
    );
    const bad = await call('POST', '/api/v1/offers', ctx.analyst, { ...body, title: { en: 'x' } });
    expect(bad.status).toBe(400);
    expect((bad.json as { error: { code: string } }).error.code).toBe('validation-failed');
    const small = ctx.offers.segments().find((s) => !s.targetable)!;
    const tooSmall = await call('POST', '/api/v1/offers', ctx.analyst, {
      ...body,
      segmentId: small.segmentId,
    });
    expect(tooSmall.status).toBe(400);
    expect(JSON.stringify(tooSmall.json)).toMatch(/fewer than 10/);
    const huge = await call('POST', '/api/v1/offers', ctx.analyst, {
      ...body,
      detail: { en: 'x'.repeat(20_000), cy: 'y' },
    });
    expect(huge.status).toBe(413);
    expect((await call('POST', '/api/v1/offers', ctx.analyst, '{"title":')).status).toBe(400);
    expect((await call('POST', '/api/v1/offers/of-nothere/retire', ctx.analyst)).status).toBe(404);
    expect(rows('offers')).toBe(0);
  });
});

describe('offers in the pull', () => {
  /** Issues a card and pushes a real visit, so that the venue has seen the resident. */
  async function tap(ref: string, uid: string, kiosk = 0, seq = 1): Promise<void> {
    ctx.admin.issueCard({ residentRef: ref, uid, technology: 'simulated' });
    const k = ctx.kiosks[kiosk]!;
    const body = JSON.stringify({
      protocol: PROTOCOL_VERSION,
      kioskId: k.kioskId,
      events: [
        {
          id: newEventId(),
          kioskId: k.kioskId,
          seq,
          occurredAt: new Date().toISOString(),
          venueId: k.venueId,
          type: 'visit',
          cardHash: cardHashOf(ctx.secrets.cardHashKey, uid),
          residentRef: ref,
          serviceId: k.serviceId,
          auth: { method: 'simulated', keyVersion: null, counter: null },
          assisted: false,
        },
      ],
    });
    const res = await fetch(`${ctx.url}/api/v1/sync/push`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signRequest(k.key, k.kioskId, 'POST', '/api/v1/sync/push', body),
      },
      body,
    });
    expect(res.status).toBe(200);
  }

  const kioskRow = (i: number) => ctx.store.getKiosk(ctx.kiosks[i]!.kioskId)!;

  it('sends the offers to every kiosk, and whom they target only for residents the venue has seen', async () => {
    const [a, b, c] = ctx.county.regulars as [string, string, string];
    await tap(a, '04000000000A01', 0, 1);
    await tap(b, '04000000000A02', 0, 2);
    const o = ctx.offers.create({ title, segmentId: clusterOf(a), ...march, endsOn: null }, 'ana');
    const pool = PullPageSchema.parse(
      pullPage(ctx.store, kioskRow(0), 0, 10_000, Date.now(), undefined, ctx.offers),
    );
    expect(pool.offers).toEqual([
      {
        id: o.id,
        title,
        detail: null,
        serviceId: null,
        startsOn: '2025-03-01',
        endsOn: null,
        status: 'active',
      },
    ]);
    expect(pool.offerResidents?.map((r) => r.residentRef).sort()).toEqual([a, b].sort());
    expect(pool.offerResidents?.every((r) => r.offerIds.join() === o.id)).toBe(true);
    // The library has seen none of them: the offer, but no one's membership.
    const library = pullPage(ctx.store, kioskRow(1), 0, 10_000, Date.now(), undefined, ctx.offers);
    expect(library.offers?.map((x) => x.id)).toEqual([o.id]);
    expect(library.offerResidents).toBeUndefined();
    // Without the offers hook (an older wiring) pages are as before.
    expect(pullPage(ctx.store, kioskRow(0), 0, 10_000, Date.now()).offers).toBeUndefined();

    // A targeted resident first seen after the offer was made gets it with their balance.
    const cursor = pool.nextCursor;
    await tap(c, '04000000000A03', 0, 3);
    const next = pullPage(
      ctx.store,
      kioskRow(0),
      cursor,
      10_000,
      Date.now(),
      undefined,
      ctx.offers,
    );
    expect(next.offerResidents).toEqual([{ residentRef: c, offerIds: [o.id] }]);

    // Retired: the offer comes again as retired and the memberships empty.
    ctx.offers.retire(o.id);
    const after = pullPage(
      ctx.store,
      kioskRow(0),
      next.nextCursor,
      10_000,
      Date.now(),
      undefined,
      ctx.offers,
    );
    expect(after.offers?.[0]?.status).toBe('retired');
    expect(after.offerResidents?.map((r) => r.offerIds.length)).toEqual([0, 0, 0]);
    expect(after.offerResidents?.map((r) => r.residentRef).sort()).toEqual([a, b, c].sort());
  });

  it('signs pages with offers; a page altered on the way no longer verifies or parses', async () => {
    await tap(ctx.county.regulars[0]!, '04000000000A01');
    ctx.offers.create({ title, segmentId: clusterOf(ctx.county.regulars[0]!), ...march }, 'ana');
    const k = ctx.kiosks[0]!;
    const path = '/api/v1/sync/pull?cursor=0';
    const res = await fetch(`${ctx.url}${path}`, {
      headers: signRequest(k.key, k.kioskId, 'GET', path, ''),
    });
    const text = await res.text();
    const sig = res.headers.get(HEADER.signature)!;
    const pub = publicKeyFromB64(ctx.secrets.publicKeyB64);
    expect(verifyBytes(pub, text, sig)).toBe(true);
    const page = PullPageSchema.parse(JSON.parse(text));
    expect(page.offers).toHaveLength(1);
    expect(page.offerResidents).toHaveLength(1);
    const forged = text.replace(title.en, 'Free money, tap here');
    expect(forged).not.toBe(text);
    expect(verifyBytes(pub, forged, sig)).toBe(false);
    // Structurally wrong offer data is refused by the kiosk's schema even when signed.
    const bad = JSON.parse(text) as { offerResidents: { offerIds: string[] }[] };
    bad.offerResidents[0]!.offerIds = Array.from({ length: 21 }, (_, i) => `of-${i}`);
    expect(PullPageSchema.safeParse(bad).success).toBe(false);
  });
});
