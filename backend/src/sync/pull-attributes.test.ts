import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { pino } from 'pino';
import {
  PullPageSchema,
  cardHashOf,
  generateSigningKeys,
  privateKeyFromB64,
  signRequest,
  type PullPage,
  type SyncedCard,
} from '@clubcard/shared';
import { loadExampleSchemes } from '@clubcard/shared/rules/example-schemes';
import type { KeyObject } from 'node:crypto';
import { AdminService } from '../admin/admin-service.js';
import { backendServices, createApp } from '../app.js';
import { loadBackendConfig } from '../config.js';
import { openBackendDb } from '../db/open.js';
import { loadDemoData, type DemoLoadResult } from '../demo/demo-data.js';
import { ensureBackendSecrets, type BackendSecrets } from '../keys.js';
import { SqliteEngineState } from '../rewards/engine-state.js';
import { RewardsService } from '../rewards/rewards-service.js';
import { SqliteBackendStore } from '../store/sqlite-store.js';
import { pullPage } from './pull.js';

/**
 * Residents' categories and consents travel to kiosks with their cards, but only those
 * some published scheme's eligibility uses, never health-related ones, and only in a
 * kiosk's signed pull.
 */

interface Ctx {
  store: SqliteBackendStore;
  secrets: BackendSecrets;
  demo: DemoLoadResult;
  rewards: RewardsService;
  admin: AdminService;
  server: Server;
  url: string;
  kiosk: { kioskId: string; key: KeyObject };
}
let ctx: Ctx;

/** A scheme whose earning is for residents with a health category and a health consent. */
const HEALTH_SCHEME = {
  id: 'health-walks',
  version: 1,
  name: 'Health walks',
  wallet: 'living-credit',
  validFrom: '2020-01-01T00:00:00Z',
  earning: [
    {
      id: 'walk',
      trigger: { eventType: 'visit', serviceKinds: ['leisure'] },
      eligibility: {
        categories: { anyOf: ['health:diabetes', 'care-leaver'] },
        consents: ['segmentation-health', 'gp-referral', 'walking-group'],
      },
      amount: { kind: 'fixed', value: 5 },
    },
  ],
};

beforeEach(async () => {
  const store = new SqliteBackendStore(openBackendDb(':memory:'));
  const secrets = ensureBackendSecrets(store);
  const admin = new AdminService(store, secrets);
  const demo = loadDemoData(admin);
  const k = demo.kiosks[0]!;
  const kp = generateSigningKeys();
  store.activateKiosk(k.kioskId, kp.publicKey, Date.now());
  const app = createApp({
    config: loadBackendConfig({ overrides: { dataDir: '/tmp', logLevel: 'silent' } }),
    store,
    secrets,
    log: pino({ level: 'silent' }),
    now: () => Date.now(),
    ...backendServices(store, secrets),
  });
  const server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const addr = server.address();
  ctx = {
    store,
    secrets,
    demo,
    admin,
    rewards: new RewardsService(store, new SqliteEngineState(store.db), secrets.cardHashKey),
    server,
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    kiosk: { kioskId: k.kioskId, key: privateKeyFromB64(kp.privateKey) },
  };
});

afterEach(async () => {
  await new Promise<void>((r) => {
    ctx.server.close(() => r());
    ctx.server.closeAllConnections();
  });
  ctx.store.close();
});

const resident = (i: number) => ctx.demo.residents[i]!;
const hashOf = (uid: string) => cardHashOf(ctx.secrets.cardHashKey, uid);

/** The page a kiosk pulls from `cursor`, checked as a kiosk checks it. */
function pull(cursor = 0): PullPage {
  const kiosk = ctx.store.getKiosk(ctx.kiosk.kioskId)!;
  return PullPageSchema.parse(pullPage(ctx.store, kiosk, cursor, 10_000, Date.now()));
}

const cardsOf = (page: PullPage, ref: string): SyncedCard[] =>
  page.cards.filter((c) => c.residentRef === ref);

const everything = {
  categories: ['in-education', 'care-leaver', 'health:diabetes', 'likes-chess'],
  consents: ['time-bank', 'walking-group', 'segmentation-health', 'gp-referral', 'contact'],
};

describe('residents’ categories and consents in the pull', () => {
  it('are only those published schemes use, never health-related ones; every card carries both lists', () => {
    ctx.rewards.publish(loadExampleSchemes());
    ctx.rewards.publish(HEALTH_SCHEME);
    ctx.rewards.grants.setAttributes({ residentRef: resident(0).residentRef, add: everything });
    const page = pull();
    const mine = cardsOf(page, resident(0).residentRef);
    expect(mine.length).toBeGreaterThan(0);
    for (const c of mine) {
      expect(c.categories).toEqual(['care-leaver', 'in-education']);
      expect(c.consents).toEqual(['time-bank', 'walking-group']);
    }
    // Nothing known: empty lists, so that a kiosk drops what it held.
    for (const c of cardsOf(page, resident(1).residentRef)) {
      expect([c.categories, c.consents]).toEqual([[], []]);
    }
    // (The scheme definitions themselves are public; residents' values are not.)
    const text = JSON.stringify(page.cards);
    for (const v of ['health:diabetes', 'segmentation-health', 'gp-referral', 'likes-chess']) {
      expect(text).not.toContain(v);
    }
  });

  it('are none while no published scheme uses any', () => {
    ctx.rewards.grants.setAttributes({ residentRef: resident(0).residentRef, add: everything });
    for (const c of cardsOf(pull(), resident(0).residentRef)) {
      expect([c.categories, c.consents]).toEqual([[], []]);
    }
  });

  it('go only to a kiosk, in its signed pull: an unsigned request, an outlet’s key and a revoked kiosk get nothing', async () => {
    ctx.rewards.publish(loadExampleSchemes());
    ctx.rewards.grants.setAttributes({
      residentRef: resident(0).residentRef,
      add: { categories: ['in-education'] },
    });
    ctx.rewards.outlets.add({ id: 'o-bookshop', name: 'Bookshop', categories: ['books'] });
    const outletKey = ctx.rewards.outlets.issueKey('o-bookshop').apiKey;
    const path = '/api/v1/sync/pull?cursor=0';
    const get = (headers: Record<string, string>) => fetch(`${ctx.url}${path}`, { headers });
    const signed = () => signRequest(ctx.kiosk.key, ctx.kiosk.kioskId, 'GET', path, '');

    const ok = await get(signed());
    expect(ok.status).toBe(200);
    const page = PullPageSchema.parse(await ok.json());
    const card = page.cards.find((c) => c.cardHash === hashOf(resident(0).uid));
    expect(card?.categories).toEqual(['in-education']);

    const refused = [
      await get({}),
      await get({ authorization: `Bearer ${outletKey}`, 'x-api-key': outletKey }),
    ];
    ctx.admin.revokeKiosk(ctx.kiosk.kioskId);
    refused.push(await get(signed()));
    for (const r of refused) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(await r.text()).not.toContain('in-education');
    }
  });
});

describe('the change feed', () => {
  it('sends a resident’s cards again when their categories or consents change, and a removed category is gone', () => {
    ctx.rewards.publish(loadExampleSchemes());
    const ref = resident(0).residentRef;
    ctx.rewards.grants.setAttributes({
      residentRef: ref,
      add: { categories: ['in-education'], consents: ['time-bank'] },
    });
    // A replacement card: the blocked one is sent again too, so it holds nothing stale.
    const replacement = ctx.admin.issueCard({
      residentRef: ref,
      uid: '04FEED00000099',
      technology: 'simulated',
    });
    ctx.store.setCardStatus(hashOf(resident(0).uid), 'blocked', Date.now());
    let cursor = pull().nextCursor;

    ctx.rewards.grants.setAttributes({
      residentRef: ref,
      remove: { categories: ['in-education'] },
    });
    const page = pull(cursor);
    expect(
      cardsOf(page, ref)
        .map((c) => c.cardHash)
        .sort(),
    ).toEqual([hashOf(resident(0).uid), replacement].sort());
    for (const c of cardsOf(page, ref)) {
      expect([c.categories, c.consents]).toEqual([[], ['time-bank']]);
    }
    expect(page.cards.filter((c) => c.residentRef !== ref)).toEqual([]);
    cursor = page.nextCursor;

    // Nothing changed (already given): no card is sent.
    ctx.rewards.grants.setAttributes({ residentRef: ref, add: { consents: ['time-bank'] } });
    expect(pull(cursor).cards).toEqual([]);
  });

  it('sends the cards of residents who have a category again when a published scheme starts using it', () => {
    ctx.rewards.publish(loadExampleSchemes());
    const [holder, other] = [resident(0).residentRef, resident(1).residentRef];
    ctx.rewards.grants.setAttributes({ residentRef: holder, add: { categories: ['care-leaver'] } });
    ctx.rewards.grants.setAttributes({ residentRef: other, add: { categories: ['likes-chess'] } });
    const before = pull();
    for (const c of cardsOf(before, holder)) expect(c.categories).toEqual([]);

    ctx.rewards.publish(HEALTH_SCHEME);
    const page = pull(before.nextCursor);
    expect(page.cards.map((c) => c.residentRef)).toEqual(cardsOf(page, holder).map(() => holder));
    expect(cardsOf(page, holder).length).toBeGreaterThan(0);
    for (const c of cardsOf(page, holder)) expect(c.categories).toEqual(['care-leaver']);
  });
});

describe('the synced card schema', () => {
  it('refuses health-related categories and consents at the kiosk’s boundary', () => {
    const card = {
      cardHash: 'a'.repeat(64),
      residentRef: 'r-abcdefgh',
      status: 'active',
      firstName: null,
      ageBand: '20-29',
    };
    const page = (extra: object) => ({
      protocol: 1,
      kioskId: ctx.kiosk.kioskId,
      cursor: 0,
      nextCursor: 1,
      hasMore: false,
      serverTime: Date.now(),
      cards: [{ ...card, ...extra }],
      balances: [],
      schemes: [],
      services: [],
      venues: [],
    });
    expect(PullPageSchema.safeParse(page({ categories: ['in-education'] })).success).toBe(true);
    expect(PullPageSchema.safeParse(page({})).success).toBe(true);
    for (const bad of [
      { categories: ['health:asthma'] },
      { consents: ['segmentation-health'] },
      { consents: ['gp-referral'] },
    ]) {
      expect(PullPageSchema.safeParse(page(bad)).success).toBe(false);
    }
  });
});
