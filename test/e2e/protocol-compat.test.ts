import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import {
  HEADER,
  PullPageSchema,
  cardHashOf,
  generateSigningKeys,
  newEventId,
  privateKeyFromB64,
  signRequest,
} from '@clubcard/shared';
import { AdminService } from '@clubcard/backend/admin/admin-service';
import { openBackend } from '@clubcard/backend/app';
import { openBackendDb } from '@clubcard/backend/db/open';
import { OfferService } from '@clubcard/backend/offers/offer-service';
import { offerCounty } from '@clubcard/backend/offers/test-county';
import { KioskStore } from '@clubcard/terminal/store/kiosk-store';
import { OfferStore } from '@clubcard/terminal/store/offer-store';
import { RewardsService } from '@clubcard/backend/rewards/rewards-service';
import { SqliteEngineState } from '@clubcard/backend/rewards/engine-state';
import { loadExampleSchemes } from '@clubcard/shared/rules/example-schemes';
import { createTestSystem, type TestSystem } from '../support/system.js';

/**
 * Kiosks in the field run old code. These tests pin what protocol v1 kiosks send and
 * accept, and the columns of every table that is synced, so that the backend and the
 * kiosk store only ever change additively.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The pull page exactly as a protocol-1 kiosk validates it (frozen copy). */
const V1PullPage = z.object({
  protocol: z.number().int(),
  kioskId: z.string(),
  cursor: z.number().int().min(0),
  nextCursor: z.number().int().min(0),
  hasMore: z.boolean(),
  serverTime: z.number().int(),
  cards: z.array(
    z.object({
      cardHash: z.string().regex(/^[0-9a-f]{64}$/),
      residentRef: z.string(),
      status: z.enum(['active', 'blocked']),
      firstName: z.string().nullable(),
      ageBand: z.string(),
    }),
  ),
  balances: z.array(
    z.object({ residentRef: z.string(), wallet: z.string(), amount: z.number().int() }),
  ),
  schemes: z.array(z.object({ id: z.string(), version: z.number().int(), wallet: z.string() })),
  services: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string() })),
  venues: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      allowUidOnly: z.boolean(),
      services: z.array(z.string()),
    }),
  ),
});

let sys: TestSystem | null = null;
afterEach(async () => {
  await sys?.cleanup();
  sys = null;
});

/** A kiosk as protocol-1 code drives it: provisioned, pushes and pulls byte for byte as v1 did. */
interface V1Kiosk {
  hashKey: string;
  push(uid: string, residentRef: string): Promise<Response>;
  pull(cursor: number): Promise<Response>;
}

async function v1Kiosk(
  url: string,
  k: { kioskId: string; code: string; venueId: string; serviceId: string },
): Promise<V1Kiosk> {
  const keys = generateSigningKeys();
  // Provisioned as a v1 kiosk was: one-time code, own key pair.
  const reg = await fetch(`${url}/api/v1/kiosks/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ protocol: 1, code: k.code, publicKey: keys.publicKey }),
  });
  expect(reg.status).toBe(201);
  const hashKey = ((await reg.json()) as { cardHashKey: string }).cardHashKey;
  const key = privateKeyFromB64(keys.privateKey);
  let seq = 0;
  return {
    hashKey,
    push: (uid, residentRef) => {
      // Byte for byte what a v1 kiosk sends: no field it did not know.
      const body = JSON.stringify({
        protocol: 1,
        kioskId: k.kioskId,
        events: [
          {
            id: newEventId(),
            kioskId: k.kioskId,
            seq: ++seq,
            occurredAt: new Date().toISOString(),
            venueId: k.venueId,
            type: 'visit',
            cardHash: cardHashOf(hashKey, uid),
            residentRef,
            serviceId: k.serviceId,
            auth: { method: 'uid-only', keyVersion: null, counter: null },
            assisted: false,
          },
        ],
      });
      return fetch(`${url}/api/v1/sync/push`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signRequest(key, k.kioskId, 'POST', '/api/v1/sync/push', body),
        },
        body,
      });
    },
    pull: (cursor) => {
      const path = `/api/v1/sync/pull?cursor=${cursor}`;
      return fetch(`${url}${path}`, { headers: signRequest(key, k.kioskId, 'GET', path, '') });
    },
  };
}

describe('an older kiosk against a newer backend', () => {
  it('pushes protocol-1 visits and reads protocol-1 pull pages', async () => {
    sys = await createTestSystem();
    const backend = await sys.startBackend();
    const k = sys.demo.kiosks[0]!;
    const v1 = await v1Kiosk(backend.url, k);
    const r = sys.demo.residents[0]!;
    const push = await v1.push(r.uid, r.residentRef);
    expect(push.status).toBe(200);
    const answer = (await push.json()) as { ackSeq: number; results: { status: string }[] };
    expect(answer.results[0]!.status).toBe('accepted');
    expect(answer.ackSeq).toBe(1);

    const pull = await v1.pull(0);
    expect(pull.status).toBe(200);
    expect(pull.headers.get(HEADER.signature)).toBeTruthy();
    const page = V1PullPage.safeParse(await pull.json());
    expect(page.success).toBe(true);
    expect(page.data?.cards.length).toBeGreaterThan(0);
  });
});

describe('an older kiosk against a backend that sends targeted offers', () => {
  it('keeps syncing (offers are optional fields it ignores); a current kiosk stores them', async () => {
    sys = await createTestSystem();
    const k = sys.demo.kiosks[0]!;
    const uid = '04C0FFEE000001';
    // Segments and an offer on the backend's database, before it starts.
    const { store, secrets } = openBackend(sys.backendConfig, join(sys.dir, 'backend.sqlite'));
    const admin = new AdminService(store, secrets);
    const county = offerCounty(store, admin);
    const ref = county.regulars[0]!;
    admin.issueCard({ residentRef: ref, uid, technology: 'simulated' });
    const cluster = (
      store.db
        .prepare(
          `SELECT s.cluster FROM analytics_segments s JOIN analytics_residents a ON a.id = s.resident_id
           WHERE a.resident_ref = ?`,
        )
        .get(ref) as { cluster: number }
    ).cluster;
    const offer = new OfferService(store.db).create(
      {
        title: { en: 'Bring a friend swimming', cy: 'Dewch â ffrind i nofio' },
        segmentId: `cluster:${cluster}`,
        startsOn: '2025-03-01',
      },
      'ana',
    );
    store.close();
    const backend = await sys.startBackend();
    const v1 = await v1Kiosk(backend.url, k);
    const hashKey = v1.hashKey;
    // A v1 visit makes the venue see the resident the offer targets.
    const push = await v1.push(uid, ref);
    expect(push.status).toBe(200);
    const pull = await v1.pull(0);
    expect(pull.status).toBe(200);
    const json = (await pull.json()) as unknown;
    // The old kiosk's schema still accepts the page …
    expect(V1PullPage.safeParse(json).success).toBe(true);
    // … and the current one reads the offer and whom it targets here.
    const page = PullPageSchema.parse(json);
    expect(page.offers?.map((o) => o.id)).toEqual([offer.id]);
    expect(page.offerResidents).toEqual([{ residentRef: ref, offerIds: [offer.id] }]);
    const kiosk = new KioskStore(join(sys.dir, 'current-kiosk.sqlite'));
    try {
      kiosk.applyPullPage(page, Date.now());
      expect(new OfferStore(kiosk.db).offerFor(ref)).toEqual({
        id: offer.id,
        title: { en: 'Bring a friend swimming', cy: 'Dewch â ffrind i nofio' },
        detail: null,
      });
      expect(kiosk.getCard(cardHashOf(hashKey, uid))?.residentRef).toBe(ref);
    } finally {
      kiosk.close();
    }
  });
});

describe('an older kiosk against a backend that sends residents’ categories and consents', () => {
  it('keeps syncing (they are optional card fields it ignores); a current kiosk stores and uses them', async () => {
    sys = await createTestSystem();
    const k = sys.demo.kiosks[0]!;
    const r = sys.demo.residents[0]!;
    const { store, secrets } = openBackend(sys.backendConfig, join(sys.dir, 'backend.sqlite'));
    const rewards = new RewardsService(store, new SqliteEngineState(store.db), secrets.cardHashKey);
    rewards.publish(loadExampleSchemes());
    rewards.grants.setAttributes({
      residentRef: r.residentRef,
      add: { categories: ['in-education', 'health:asthma'], consents: ['time-bank', 'contact'] },
    });
    store.close();
    const backend = await sys.startBackend();
    const v1 = await v1Kiosk(backend.url, k);
    const pull = await v1.pull(0);
    expect(pull.status).toBe(200);
    const json = (await pull.json()) as unknown;
    // The old kiosk's schema still accepts the page …
    expect(V1PullPage.safeParse(json).success).toBe(true);
    // … and the current one reads what schemes use, and nothing else.
    const page = PullPageSchema.parse(json);
    const hash = cardHashOf(v1.hashKey, r.uid);
    expect(page.cards.find((c) => c.cardHash === hash)).toMatchObject({
      categories: ['in-education'],
      consents: ['time-bank'],
    });
    const kiosk = new KioskStore(join(sys.dir, 'current-kiosk.sqlite'));
    try {
      kiosk.applyPullPage(page, Date.now());
      expect(kiosk.eligibilityOf(r.residentRef)).toEqual({
        ageBand: page.cards.find((c) => c.cardHash === hash)?.ageBand,
        categories: ['in-education'],
        consents: ['time-bank'],
      });
      // A page from an older backend (no such fields) keeps what the kiosk holds.
      const older = PullPageSchema.parse({
        ...page,
        cards: page.cards.map(({ categories: _c, consents: _s, ...c }) => c),
      });
      kiosk.applyPullPage(older, Date.now());
      expect(kiosk.getCard(hash)).toMatchObject({
        categories: ['in-education'],
        consents: ['time-bank'],
      });
    } finally {
      kiosk.close();
    }
  });
});

/** Tables whose rows are synced between kiosks and the backend. */
const SYNCED = {
  backend: [
    'cards',
    'residents',
    'services',
    'venues',
    'venue_services',
    'schemes',
    'card_counters',
    'events',
    'ledger_lines',
    'offers',
    'consents',
    'volunteered_attributes',
  ],
  kiosk: [
    'cards',
    'balances',
    'services',
    'venues',
    'schemes',
    'outbox',
    'ledger_lines',
    'card_counters',
    'offers',
    'offer_residents',
  ],
};

function columns(db: Database.Database, tables: string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const t of tables) {
    const cols = db.prepare(`PRAGMA table_info(${t})`).all() as { name: string; type: string }[];
    out[t] = Object.fromEntries(cols.map((c) => [c.name, c.type]));
  }
  return out;
}

describe('synced tables change additively only', () => {
  it('keeps every column of the recorded schema snapshot, with its type', () => {
    const backend = openBackendDb(':memory:');
    const kiosk = new KioskStore(':memory:');
    const now = {
      backend: columns(backend, SYNCED.backend),
      kiosk: columns(kiosk.db, SYNCED.kiosk),
    };
    backend.close();
    kiosk.close();
    const file = join(FIXTURES, 'synced-schema-snapshot.json');
    // Record a new snapshot (after an additive change) with UPDATE_SCHEMA_SNAPSHOT=1.
    if (process.env.UPDATE_SCHEMA_SNAPSHOT === '1' || !existsSync(file)) {
      writeFileSync(file, `${JSON.stringify(now, null, 2)}\n`);
    }
    expect(existsSync(file)).toBe(true);
    const snapshot = JSON.parse(readFileSync(file, 'utf8')) as typeof now;
    for (const side of ['backend', 'kiosk'] as const) {
      for (const [table, cols] of Object.entries(snapshot[side])) {
        expect(Object.keys(now[side]), `${side} table ${table} was removed`).toContain(table);
        for (const [col, type] of Object.entries(cols)) {
          expect(
            now[side][table]?.[col],
            `${side} ${table}.${col} was removed or changed type`,
          ).toBe(type);
        }
      }
    }
  });
});
