import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HEADER,
  PROTOCOL_VERSION,
  generateSigningKeys,
  privateKeyFromB64,
  signBytes,
  type PullPage,
} from '@clubcard/shared';
import { KioskStore } from '../store/kiosk-store.js';
import { OfferStore } from '../store/offer-store.js';
import { SyncClient, backoffDelay, type FetchFn } from './sync-client.js';

const backendKeys = generateSigningKeys();
const backendKey = privateKeyFromB64(backendKeys.privateKey);
const HASH = 'c'.repeat(64);

let dir: string;
let store: KioskStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sync-client-'));
  store = new KioskStore(join(dir, 'k.sqlite'));
  store.setIdentity({
    kioskId: 'k-test',
    venueId: 'v-test',
    serviceId: 's-test',
    privateKey: generateSigningKeys().privateKey,
    backendPublicKey: backendKeys.publicKey,
    cardHashKey: 'ab'.repeat(32),
  });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function page(over: Partial<PullPage> = {}): PullPage {
  return {
    protocol: PROTOCOL_VERSION,
    kioskId: 'k-test' as PullPage['kioskId'],
    cursor: 0,
    nextCursor: 3,
    hasMore: false,
    serverTime: Date.now(),
    cards: [
      {
        cardHash: HASH as never,
        residentRef: 'r-abcdefgh' as never,
        status: 'active',
        firstName: 'Ann',
        ageBand: '30-44',
      },
    ],
    balances: [],
    schemes: [],
    services: [],
    venues: [],
    offers: [
      {
        id: 'of-swim1' as never,
        title: { en: 'Bring a friend swimming', cy: 'Dewch â ffrind i nofio' },
        detail: null,
        serviceId: null,
        startsOn: '2025-03-01',
        endsOn: null,
        status: 'active',
      },
    ],
    offerResidents: [{ residentRef: 'r-abcdefgh' as never, offerIds: ['of-swim1' as never] }],
    ...over,
  };
}

function serve(body: string, signature: string | null, status = 200): FetchFn {
  return (async () =>
    new Response(body, {
      status,
      headers: {
        'content-type': 'application/json',
        ...(signature ? { [HEADER.signature]: signature } : {}),
      },
    })) as FetchFn;
}

describe('sync client pull', () => {
  it('applies a correctly signed page', async () => {
    const body = JSON.stringify(page());
    const c = new SyncClient({
      store,
      backendUrl: 'http://b',
      fetch: serve(body, signBytes(backendKey, body)),
    });
    await c.syncOnce();
    expect(store.getCard(HASH)?.firstName).toBe('Ann');
    expect(store.pullCursor()).toBe(3);
    expect(new OfferStore(store.db).offerFor('r-abcdefgh')?.title.cy).toBe(
      'Dewch â ffrind i nofio',
    );
  });

  it.each([
    [
      'a tampered body',
      (b: string) => [b.replace('"Ann"', '"Eve"'), signBytes(backendKey, b)] as const,
    ],
    ['no signature', (b: string) => [b, null] as const],
    [
      'a signature by another key',
      (b: string) =>
        [b, signBytes(privateKeyFromB64(generateSigningKeys().privateKey), b)] as const,
    ],
    [
      'garbage',
      () => ['\u0000\u0001not json', signBytes(backendKey, '\u0000\u0001not json')] as const,
    ],
    [
      'a page for another kiosk',
      () => {
        const b = JSON.stringify(page({ kioskId: 'k-other' as PullPage['kioskId'] }));
        return [b, signBytes(backendKey, b)] as const;
      },
    ],
    [
      'a page that goes backwards',
      () => {
        const b = JSON.stringify(page({ cursor: 0, nextCursor: 0, hasMore: true, cards: [] }));
        return [b, 'x'.repeat(88)] as const;
      },
    ],
    [
      'a tampered offer',
      (b: string) =>
        [b.replace('Bring a friend swimming', 'Free money'), signBytes(backendKey, b)] as const,
    ],
    [
      'a signed page whose offers break the protocol',
      () => {
        const bad = JSON.stringify({
          ...page(),
          offerResidents: [{ residentRef: 'r-abcdefgh', offerIds: ['not-an-offer'] }],
        });
        return [bad, signBytes(backendKey, bad)] as const;
      },
    ],
    [
      'an implausibly large page',
      () => {
        const b = JSON.stringify(
          page({ cards: Array.from({ length: 5000 }, () => page().cards[0]!) }),
        );
        return [b, signBytes(backendKey, b)] as const;
      },
    ],
  ])('refuses %s and changes nothing', async (_name, make) => {
    const [body, sig] = make(JSON.stringify(page()));
    const c = new SyncClient({ store, backendUrl: 'http://b', fetch: serve(body, sig) });
    await expect(c.syncOnce()).rejects.toMatchObject({ code: 'bad-pull-page' });
    expect(store.getCard(HASH)).toBeNull();
    expect(new OfferStore(store.db).offerFor('r-abcdefgh')).toBeNull();
    expect(store.pullCursor()).toBe(0);
    expect(c.state().online).toBe(false);
    expect(c.state().lastError).toMatch(/bad-pull-page/);
  });

  it('re-signs with the backend time after a clock-skew refusal', async () => {
    const body = JSON.stringify(page());
    const seen: number[] = [];
    const fetchFn = (async (_url: string, init?: RequestInit) => {
      const ts = Number((init?.headers as Record<string, string>)[HEADER.timestamp]);
      seen.push(ts);
      if (Math.abs(ts - Date.now() - 3_600_000) > 60_000) {
        return new Response(
          JSON.stringify({
            error: {
              code: 'clock-skew',
              message: 'skew',
              details: { serverTime: Date.now() + 3_600_000 },
            },
          }),
          { status: 401 },
        );
      }
      return new Response(body, {
        status: 200,
        headers: { [HEADER.signature]: signBytes(backendKey, body) },
      });
    }) as FetchFn;
    const c = new SyncClient({ store, backendUrl: 'http://b', fetch: fetchFn });
    await c.syncOnce();
    expect(seen).toHaveLength(2);
    expect(seen[1]! - seen[0]!).toBeGreaterThan(3_500_000);
    expect(c.state().backendClockOffsetMs).toBeGreaterThan(3_500_000);
  });
});

describe('backoff', () => {
  it('grows exponentially with full jitter and is capped', () => {
    expect(backoffDelay(0, 1000, 60_000, () => 0.999)).toBeLessThan(1000);
    expect(backoffDelay(3, 1000, 60_000, () => 0.999)).toBeGreaterThan(7000);
    expect(backoffDelay(3, 1000, 60_000, () => 0.999)).toBeLessThan(8000);
    expect(backoffDelay(30, 1000, 60_000, () => 0.999)).toBeLessThan(60_000);
    expect(backoffDelay(5, 1000, 60_000, () => 0)).toBe(0);
  });
});
