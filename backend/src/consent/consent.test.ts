import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, PushResponseSchema, newEventId, signRequest } from '@clubcard/shared';
import { replayCheck } from '../ledger/replay.js';
import { COUNTY_ANALYSIS_DATE } from '../offers/test-county.js';
import { startCountyBackend, type CountyBackend, type TestKiosk } from '../offers/test-backend.js';
import { dayOfIsoDate } from '../analytics/london-slots.js';
import type { ConsentService } from './consent-service.js';
import { MAX_FAILURES } from './resident-access.js';

let ctx: CountyBackend & {
  consents: ConsentService;
  analyst: string;
  staffRef: string;
  kiosk: TestKiosk;
  other: TestKiosk;
  resident: string;
};

beforeEach(async () => {
  const b = await startCountyBackend();
  ctx = Object.assign(b, {
    consents: b.services.consents,
    analyst: b.analystToken,
    staffRef: b.services.staff.add({ firstName: 'Sam', venues: ['*'], pin: '4826' }),
    kiosk: b.kiosks[0]!,
    other: b.kiosks[1]!,
    resident: b.county.regulars[0]!,
  });
});

afterEach(async () => {
  await ctx.close();
});

function consentEvent(seq: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: newEventId(),
    kioskId: ctx.kiosk.kioskId,
    seq,
    occurredAt: new Date(ctx.now.t).toISOString(),
    venueId: ctx.kiosk.venueId,
    type: 'consent',
    residentRef: ctx.resident,
    purpose: 'analytics',
    given: true,
    attributes: ['carer', 'welsh-speaker'],
    assistedBy: ctx.staffRef,
    ...over,
  };
}

async function push(events: unknown[]): Promise<{ status: string; code?: string }[]> {
  const body = JSON.stringify({ protocol: PROTOCOL_VERSION, kioskId: ctx.kiosk.kioskId, events });
  const res = await fetch(`${ctx.url}/api/v1/sync/push`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signRequest(
        ctx.kiosk.key,
        ctx.kiosk.kioskId,
        'POST',
        '/api/v1/sync/push',
        body,
        ctx.now.t,
      ),
    },
    body,
  });
  expect(res.status).toBe(200);
  return PushResponseSchema.parse(await res.json()).results;
}

const call = (
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; json: unknown }> => ctx.call(method, path, token, body);

const given = (ref: string): Record<string, boolean> =>
  Object.fromEntries(ctx.consents.of(ref).consents.map((c) => [c.purpose, c.given]));

describe('consent events from kiosks', () => {
  it('records consent and volunteered attributes; settles duplicates; leaves the ledger alone', async () => {
    const e = consentEvent(1);
    expect(await push([e])).toMatchObject([{ status: 'accepted', lines: [] }]);
    expect(given(ctx.resident)).toEqual({
      analytics: true,
      'segmentation-health': false,
      contact: false,
    });
    expect(ctx.consents.of(ctx.resident).attributes).toEqual(['carer', 'welsh-speaker']);
    // A retry of the same event is a duplicate and changes nothing.
    expect((await push([e]))[0]!.status).toBe('duplicate');
    // Withdrawn at the desk, attributes left as they were (null).
    ctx.now.t += 1000;
    await push([consentEvent(2, { given: false, attributes: null })]);
    expect(given(ctx.resident).analytics).toBe(false);
    expect(ctx.consents.of(ctx.resident).attributes).toEqual(['carer', 'welsh-speaker']);
    // The ledger still follows from the events (consent events are not the engine's).
    expect(replayCheck(ctx.store).mismatches).toEqual([]);
  });

  it('rejects (and settles) bad consent events without recording anything', async () => {
    const results = await push([
      consentEvent(1, { residentRef: 'r-nobody0000' }),
      consentEvent(2, { assistedBy: 'st-nobody' }),
      consentEvent(3, { venueId: ctx.other.venueId }),
      consentEvent(4, { purpose: 'marketing' }),
      consentEvent(5, { attributes: ['carer', 'carer'] }),
      consentEvent(6, { attributes: ['religion'] }),
      consentEvent(7, { given: 'yes' }),
    ]);
    expect(results.map((r) => [r.status, r.code])).toEqual([
      ['rejected', 'not-found'],
      ['rejected', 'validation-failed'],
      ['rejected', 'unknown-venue'],
      ['rejected', 'validation-failed'],
      ['rejected', 'validation-failed'],
      ['rejected', 'validation-failed'],
      ['rejected', 'validation-failed'],
    ]);
    expect(ctx.store.db.prepare('SELECT COUNT(*) AS n FROM consents').get()).toEqual({ n: 0 });
    expect(ctx.store.db.prepare('SELECT COUNT(*) AS n FROM volunteered_attributes').get()).toEqual({
      n: 0,
    });
  });

  it('never lets a late kiosk report override what the resident said since', async () => {
    const earlier = new Date(ctx.now.t - 3_600_000).toISOString();
    ctx.consents.setConsent(ctx.resident, 'analytics', false);
    ctx.consents.setAttributes(ctx.resident, [{ attribute: 'veteran', volunteered: true }]);
    await push([consentEvent(1, { occurredAt: earlier, attributes: ['carer'] })]);
    expect(given(ctx.resident).analytics).toBe(false);
    // Each attribute is ordered on its own: the late report's "not a veteran" is older than
    // what the resident said since; about being a carer it is the only statement.
    expect(ctx.consents.of(ctx.resident).attributes).toEqual(['carer', 'veteran']);
  });
});

describe('health consent and segmentation', () => {
  it('puts GP visits into segmentation with consent and takes them out at once on withdrawal', () => {
    // A resident whose only visits are GP drop-ins: without consent they are not segmented.
    const ref = ctx.county.lapsed[0]!;
    const gpOnly = ctx.store.db
      .prepare(
        'SELECT ref FROM residents WHERE ref NOT IN (SELECT resident_ref FROM analytics_residents) LIMIT 1',
      )
      .get() as { ref: string };
    for (const d of ['03', '10', '17', '24']) {
      ctx.county.visit(
        gpOnly.ref,
        'v-high-street-gp',
        's-gp-drop-in',
        `2025-03-${d}T09:00:00.000Z`,
      );
    }
    ctx.county.analytics.segment({
      analysisDay: dayOfIsoDate(COUNTY_ANALYSIS_DATE),
      kMin: 2,
      kMax: 2,
    });
    const segmented = (r: string): boolean =>
      ctx.store.db
        .prepare(
          `SELECT 1 FROM analytics_segments s JOIN analytics_residents a ON a.id = s.resident_id
           WHERE a.resident_ref = ?`,
        )
        .get(r) !== undefined;
    expect(segmented(gpOnly.ref)).toBe(false);
    expect(segmented(ref)).toBe(true);
    expect(ctx.consents.setConsent(gpOnly.ref, 'segmentation-health', true)).toBe(true);
    expect(segmented(gpOnly.ref)).toBe(true);
    expect(ctx.consents.setConsent(gpOnly.ref, 'segmentation-health', false)).toBe(true);
    expect(segmented(gpOnly.ref)).toBe(false);
    // Saying the same again changes nothing.
    expect(ctx.consents.setConsent(gpOnly.ref, 'segmentation-health', false)).toBe(false);
  });
});

describe('resident API', () => {
  async function signIn(): Promise<{ code: string; token: string }> {
    const issued = await call(
      'POST',
      `/api/v1/admin/residents/${ctx.resident}/access-code`,
      ctx.adminToken,
    );
    expect(issued.status).toBe(201);
    const code = (issued.json as { code: string }).code;
    const login = await call('POST', '/api/v1/resident/login', null, { code });
    expect(login.status).toBe(200);
    return { code, token: (login.json as { token: string }).token };
  }

  it('issues access codes to admins only, stored as a hash', async () => {
    expect(
      (await call('POST', `/api/v1/admin/residents/${ctx.resident}/access-code`, ctx.analyst))
        .status,
    ).toBe(403);
    expect(
      (await call('POST', `/api/v1/admin/residents/${ctx.resident}/access-code`, null)).status,
    ).toBe(401);
    expect(
      (await call('POST', '/api/v1/admin/residents/r-nobody0000/access-code', ctx.adminToken))
        .status,
    ).toBe(404);
    const { code } = await signIn();
    expect(code).toMatch(/^[A-Z2-9]{6}(-[A-Z2-9]{4}){4}$/);
    const stored = JSON.stringify(ctx.store.db.prepare('SELECT * FROM resident_access').all());
    expect(stored).not.toContain(code.slice(7));
  });

  it('lets a resident read and change their own consents and attributes', async () => {
    const { token } = await signIn();
    const mine = await call('GET', '/api/v1/resident/consents', token);
    expect(mine.status).toBe(200);
    expect(mine.json).toMatchObject({ attributes: [] });
    const give = await call('PUT', '/api/v1/resident/consents/analytics', token, { given: true });
    expect(give.status).toBe(200);
    expect(given(ctx.resident).analytics).toBe(true);
    expect((await call('PUT', '/api/v1/resident/attributes/carer', token)).status).toBe(200);
    expect((await call('PUT', '/api/v1/resident/attributes/student', token)).status).toBe(200);
    const removed = await call('DELETE', '/api/v1/resident/attributes/carer', token);
    expect((removed.json as { attributes: string[] }).attributes).toEqual(['student']);
    ctx.now.t += 1000;
    await call('PUT', '/api/v1/resident/consents/analytics', token, { given: false });
    expect(given(ctx.resident).analytics).toBe(false);
    // A session lasts 30 minutes.
    ctx.now.t += 31 * 60 * 1000;
    expect((await call('GET', '/api/v1/resident/consents', token)).status).toBe(401);
    // Only their own: nothing about anyone else changed.
    expect(ctx.store.db.prepare('SELECT DISTINCT resident_ref FROM consents').all()).toEqual([
      { resident_ref: ctx.resident },
    ]);
  });

  it('refuses bad requests and other credentials, changing nothing', async () => {
    const { token } = await signIn();
    const before = JSON.stringify(ctx.consents.of(ctx.resident));
    const bad: [string, string, unknown][] = [
      ['PUT', '/api/v1/resident/consents/marketing', { given: true }],
      ['PUT', '/api/v1/resident/consents/analytics', { given: 'yes' }],
      ['PUT', '/api/v1/resident/consents/analytics', { given: true, residentRef: 'r-other0000' }],
      ['PUT', '/api/v1/resident/consents/analytics', '{"given":'],
      ['PUT', '/api/v1/resident/consents/analytics', { given: true, pad: 'x'.repeat(5000) }],
      ['PUT', '/api/v1/resident/attributes/religion', undefined],
    ];
    for (const [m, p, b] of bad) {
      const r = await call(m, p, token, b);
      expect(r.status, `${m} ${p}`).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    expect(JSON.stringify(ctx.consents.of(ctx.resident))).toBe(before);
    // An operator token is not a resident session, nor the reverse.
    expect((await call('GET', '/api/v1/resident/consents', ctx.adminToken)).status).toBe(401);
    expect((await call('GET', '/api/v1/offers', token)).status).toBe(401);
    expect((await call('GET', '/api/v1/resident/consents', null)).status).toBe(401);
    await call('POST', '/api/v1/resident/logout', token);
    expect((await call('GET', '/api/v1/resident/consents', token)).status).toBe(401);
  });

  it('locks a code out after repeated failures, even for the right code', async () => {
    const { code } = await signIn();
    const wrong = `${code.slice(0, 7)}AAAA-AAAA-AAAA-AAAA`;
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect((await call('POST', '/api/v1/resident/login', null, { code: wrong })).status).toBe(
        401,
      );
    }
    const locked = await call('POST', '/api/v1/resident/login', null, { code });
    expect(locked.status).toBe(429);
    ctx.now.t += 16 * 60 * 1000;
    expect((await call('POST', '/api/v1/resident/login', null, { code })).status).toBe(200);
    // Unknown handles are slowed down the same way.
    for (let i = 0; i < MAX_FAILURES; i++) {
      await call('POST', '/api/v1/resident/login', null, { code: 'ZZZZZZ-AAAA-AAAA-AAAA-AAAA' });
    }
    expect(
      (await call('POST', '/api/v1/resident/login', null, { code: 'ZZZZZZ-AAAA-AAAA-AAAA-AAAA' }))
        .status,
    ).toBe(429);
    expect((await call('POST', '/api/v1/resident/login', null, { code: 'short' })).status).toBe(
      400,
    );
  });
});
