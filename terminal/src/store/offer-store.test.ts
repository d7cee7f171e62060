import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PullPageSchema, type PullPage } from '@clubcard/shared';
import { OfferSchema } from '../bridge/kiosk-bridge.js';
import { KioskStore } from './kiosk-store.js';
import { OfferStore, londonDate } from './offer-store.js';

const DAY = 86_400_000;
const ALICE = 'r-alice0001';
const BOB = 'r-bob00001';
const CARD = 'c'.repeat(64);

function withStore(fn: (store: KioskStore) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'koffers-'));
  const store = new KioskStore(join(dir, 'k.sqlite'));
  try {
    fn(store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const date = (offsetDays: number): string => londonDate(Date.now() + offsetDays * DAY);

function offer(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    title: { en: `Swim free ${id}`, cy: `Nofio am ddim ${id}` },
    detail: { en: 'Any weekday morning', cy: 'Unrhyw fore yn ystod yr wythnos' },
    serviceId: 's-swim',
    startsOn: date(-3),
    endsOn: date(10),
    status: 'active',
    ...over,
  };
}

/** A page as the backend sends it, checked against the protocol as the sync client does. */
function page(cursor: number, extra: Record<string, unknown>): PullPage {
  return PullPageSchema.parse({
    protocol: 1,
    kioskId: 'k-test',
    cursor,
    nextCursor: cursor + 1,
    hasMore: false,
    serverTime: Date.now(),
    cards: [],
    balances: [],
    schemes: [],
    services: [],
    venues: [],
    ...extra,
  });
}

/** Alice's card and balance: card state that offers must never disturb. */
const aliceCard = {
  cards: [
    { cardHash: CARD, residentRef: ALICE, status: 'active', firstName: 'Alice', ageBand: '30-44' },
  ],
  balances: [{ residentRef: ALICE, wallet: 'leisure-credit', amount: 40 }],
};

describe('kiosk offer store', () => {
  it('stores pulled offers and shows a targeted resident theirs, in both languages', () => {
    withStore((store) => {
      store.applyPullPage(
        page(0, {
          ...aliceCard,
          offers: [offer('of-aaa1')],
          offerResidents: [{ residentRef: ALICE, offerIds: ['of-aaa1'] }],
        }),
        Date.now(),
      );
      const offers = new OfferStore(store.db);
      const o = offers.offerFor(ALICE);
      expect(OfferSchema.parse(o)).toEqual({
        id: 'of-aaa1',
        title: { en: 'Swim free of-aaa1', cy: 'Nofio am ddim of-aaa1' },
        detail: { en: 'Any weekday morning', cy: 'Unrhyw fore yn ystod yr wythnos' },
      });
      expect(offers.offerFor(BOB)).toBeNull();
      expect(store.balancesFor(ALICE)).toEqual([
        { wallet: 'leisure-credit', amount: 40, provisional: 0 },
      ]);
    });
  });

  it('replaces offers and memberships on a newer page without touching card state', () => {
    withStore((store) => {
      store.applyPullPage(
        page(0, {
          ...aliceCard,
          offers: [offer('of-aaa1'), offer('of-bbb2', { startsOn: date(-1) })],
          offerResidents: [
            { residentRef: ALICE, offerIds: ['of-aaa1', 'of-bbb2'] },
            { residentRef: BOB, offerIds: ['of-aaa1'] },
          ],
        }),
        Date.now(),
      );
      const offers = new OfferStore(store.db);
      // The most recently started offer is shown.
      expect(offers.offerFor(ALICE)?.id).toBe('of-bbb2');
      store.applyPullPage(
        page(1, {
          offers: [offer('of-aaa1', { title: { en: 'Swim for £1', cy: 'Nofio am £1' } })],
          offerResidents: [
            { residentRef: ALICE, offerIds: ['of-aaa1'] },
            { residentRef: BOB, offerIds: [] },
          ],
        }),
        Date.now(),
      );
      expect(offers.offerFor(ALICE)?.title).toEqual({ en: 'Swim for £1', cy: 'Nofio am £1' });
      expect(offers.offerFor(BOB)).toBeNull();
      // A page from an older backend (no offer fields) leaves offers as they were.
      store.applyPullPage(page(2, {}), Date.now());
      expect(offers.offerFor(ALICE)?.id).toBe('of-aaa1');
      expect(store.balancesFor(ALICE)).toEqual([
        { wallet: 'leisure-credit', amount: 40, provisional: 0 },
      ]);
      expect(store.getCard(CARD)?.residentRef).toBe(ALICE);
    });
  });

  it('shows an offer only within its dates and removes it once ended or retired', () => {
    withStore((store) => {
      store.applyPullPage(
        page(0, {
          offers: [
            offer('of-soon1', { startsOn: date(2), endsOn: date(5) }),
            offer('of-ends1', { startsOn: date(-5), endsOn: date(1) }),
            offer('of-open1', { startsOn: date(-5), endsOn: null, detail: null }),
          ],
          offerResidents: [
            { residentRef: ALICE, offerIds: ['of-soon1'] },
            { residentRef: BOB, offerIds: ['of-ends1'] },
            { residentRef: 'r-carol0001', offerIds: ['of-open1'] },
          ],
        }),
        Date.now(),
      );
      let clock = Date.now();
      const offers = new OfferStore(store.db, () => clock);
      expect(offers.offerFor(ALICE)).toBeNull(); // not started yet
      expect(offers.offerFor(BOB)?.id).toBe('of-ends1');
      expect(offers.offerFor('r-carol0001')).toMatchObject({ id: 'of-open1', detail: null });
      clock += 3 * DAY;
      expect(offers.offerFor(ALICE)?.id).toBe('of-soon1');
      expect(offers.offerFor(BOB)).toBeNull(); // ended, even before the next sync
      expect(offers.expire(clock)).toBe(1);
      const left = store.db.prepare('SELECT offer_id FROM offer_residents ORDER BY 1').all();
      expect(left).toEqual([{ offer_id: 'of-open1' }, { offer_id: 'of-soon1' }]);

      store.applyPullPage(
        page(1, { offers: [offer('of-open1', { status: 'retired' })] }),
        Date.now(),
      );
      expect(offers.offerFor('r-carol0001')).toBeNull();
      expect(
        store.db.prepare("SELECT COUNT(*) AS n FROM offers WHERE id = 'of-open1'").get(),
      ).toEqual({ n: 0 });
    });
  });

  it('keeps what it had when a page is refused by the protocol', () => {
    withStore((store) => {
      store.applyPullPage(
        page(0, {
          offers: [offer('of-aaa1')],
          offerResidents: [{ residentRef: ALICE, offerIds: ['of-aaa1'] }],
        }),
        Date.now(),
      );
      // The sync client parses every page before applying it: these never reach the store.
      expect(() => page(1, { offers: [offer('of-aaa1', { title: { en: 'x' } })] })).toThrow();
      expect(() =>
        page(1, { offerResidents: [{ residentRef: ALICE, offerIds: Array(21).fill('of-aaa1') }] }),
      ).toThrow();
      expect(new OfferStore(store.db).offerFor(ALICE)?.id).toBe('of-aaa1');
    });
  });
});
