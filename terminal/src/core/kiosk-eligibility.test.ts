import { MemoryEngineState, PullPageSchema, type PullPage } from '@clubcard/shared';
import { afterEach, describe, expect, it } from 'vitest';
import type { KioskStore } from '../store/kiosk-store.js';
import { KioskRedemption } from './redemption-port.js';
import { recordVisit } from './tap-pipeline.js';
import { ASHA, BEN, EARN_ON_SWIM, SIMULATED, hashOf, testKiosk } from './test-kiosk.js';

/** Credits for a swim only for residents in education; a member price for the swim club. */
const SWIM = EARN_ON_SWIM.earning[0]!;
const MEMBER_SWIM = {
  id: 'member-swim',
  item: 'swim-session',
  eligibility: { consents: ['swim-club'] },
};
const SCHEME = {
  ...EARN_ON_SWIM,
  earning: [{ ...SWIM, eligibility: { categories: { anyOf: ['in-education'] } } }],
  redemption: {
    offlineAllowance: 0,
    rules: [{ ...MEMBER_SWIM, price: { kind: 'fixed', amount: 5 } }],
  },
};

let open: KioskStore[] = [];
afterEach(() => {
  for (const s of open) s.close();
  open = [];
});

function setup() {
  const { store, desk } = testKiosk([SCHEME], [
    { residentRef: ASHA.residentRef, wallet: 'living-credit', amount: 50 },
  ] as PullPage['balances']);
  open.push(store);
  let cursor = 1;
  /** Applies a pull page bringing Asha's card as the backend sends it now. */
  const pullAsha = (attrs: { categories?: string[]; consents?: string[] }): void => {
    const page = PullPageSchema.parse({
      protocol: 1,
      kioskId: 'k-pool-1',
      cursor,
      nextCursor: ++cursor,
      hasMore: false,
      serverTime: Date.now(),
      cards: [
        {
          cardHash: hashOf(ASHA.uid),
          residentRef: ASHA.residentRef,
          status: 'active',
          firstName: ASHA.firstName,
          ageBand: '13-19',
          ...attrs,
        },
      ],
      balances: [],
      schemes: [],
      services: [],
      venues: [],
    });
    store.applyPullPage(page, Date.now());
  };
  /** A tap's provisional credit, on a fresh provisional state. */
  const tap = (residentRef: string, cardHash: string): { wallet: string; amount: number }[] => {
    const venue = store.getVenue('v-pool');
    const service = store.getService('s-swim');
    if (!venue || !service) throw new Error('fixture');
    return recordVisit(
      { store, engine: new MemoryEngineState(), now: () => Date.now() },
      {
        kioskId: 'k-pool-1',
        venue,
        service,
        card: { cardHash, residentRef, ageBand: '13-19' },
        auth: SIMULATED,
        assisted: false,
      },
    ).earned;
  };
  const port = new KioskRedemption({
    store,
    desk,
    engine: new MemoryEngineState(),
    online: () => true,
    now: () => Date.now(),
  });
  const options = (ref: string) => port.optionsFor(ref).options.map((o) => o.id);
  return { store, desk, pullAsha, tap, options };
}

describe('residents’ categories and consents at the kiosk', () => {
  it('are empty until a pull brings them', () => {
    const { store, tap } = setup();
    expect(store.eligibilityOf(ASHA.residentRef)).toEqual({
      ageBand: '13-19',
      categories: [],
      consents: [],
    });
    expect(store.eligibilityOf('r-unknown0001')).toBeNull();
    expect(tap(ASHA.residentRef, hashOf(ASHA.uid))).toEqual([]);
  });

  it('are stored from the pull and used for a tap’s provisional credit and for what can be spent', () => {
    const { store, pullAsha, tap, options } = setup();
    expect(options(ASHA.residentRef)).toEqual([]);
    pullAsha({ categories: ['in-education'], consents: ['swim-club'] });
    expect(store.getCard(hashOf(ASHA.uid))).toMatchObject({
      categories: ['in-education'],
      consents: ['swim-club'],
    });
    expect(tap(ASHA.residentRef, hashOf(ASHA.uid))).toEqual([
      { wallet: 'living-credit', amount: 10 },
    ]);
    expect(options(ASHA.residentRef)).toEqual(['living-credit/member-swim']);
    // Another resident's card holds none of them.
    expect(tap(BEN.residentRef, hashOf(BEN.uid))).toEqual([]);
  });

  it('drop a category removed at the backend after the next pull', () => {
    const { store, pullAsha, tap, options } = setup();
    pullAsha({ categories: ['in-education'], consents: ['swim-club'] });
    pullAsha({ categories: [], consents: ['swim-club'] });
    expect(store.eligibilityOf(ASHA.residentRef)).toEqual({
      ageBand: '13-19',
      categories: [],
      consents: ['swim-club'],
    });
    expect(tap(ASHA.residentRef, hashOf(ASHA.uid))).toEqual([]);
    pullAsha({ categories: [], consents: [] });
    expect(options(ASHA.residentRef)).toEqual([]);
  });

  it('are kept when a page from an older backend carries no such fields', () => {
    const { store, pullAsha } = setup();
    pullAsha({ categories: ['in-education'], consents: ['swim-club'] });
    pullAsha({});
    expect(store.eligibilityOf(ASHA.residentRef)).toMatchObject({
      categories: ['in-education'],
      consents: ['swim-club'],
    });
  });

  it('are not hidden by a card issued at this desk that no pull has brought yet', () => {
    const { desk, pullAsha, tap } = setup();
    pullAsha({ categories: ['in-education'] });
    const fresh = hashOf('04A1B2C3D4E5FF');
    desk.addCard(
      {
        cardHash: fresh,
        residentRef: ASHA.residentRef,
        firstName: ASHA.firstName,
        ageBand: '13-19',
        technology: 'simulated',
      },
      Date.now() + 1000,
    );
    expect(tap(ASHA.residentRef, fresh)).toEqual([{ wallet: 'living-credit', amount: 10 }]);
  });
});
