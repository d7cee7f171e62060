import { MemoryEngineState, RedemptionEventSchema, type PullPage } from '@clubcard/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { DeskStore } from '../store/desk-store.js';
import type { KioskStore } from '../store/kiosk-store.js';
import { KioskRedemption } from './redemption-port.js';
import { recordVisit } from './tap-pipeline.js';
import { ASHA, BEN, EARN_ON_SWIM, SIMULATED, hashOf, testKiosk } from './test-kiosk.js';

const SCHEME = {
  ...EARN_ON_SWIM,
  redemption: {
    offlineAllowance: 70,
    rules: [
      {
        id: 'free-swim',
        item: 'swim-session',
        price: { kind: 'fixed', amount: 60 },
        where: { serviceIds: ['s-swim'] },
      },
      {
        id: 'cafe-drink',
        item: 'hot-drink',
        description: 'A hot drink at the café',
        price: { kind: 'fixed', amount: 10 },
        approval: 'staff',
      },
      {
        id: 'free-gym',
        item: 'gym-session',
        price: { kind: 'fixed', amount: 80 },
        where: { serviceIds: ['s-gym'] },
      },
      {
        id: 'elders-lunch',
        item: 'lunch',
        price: { kind: 'fixed', amount: 20 },
        eligibility: { ageBands: ['65-74'] },
      },
      { id: 'voucher', item: 'shop-voucher', price: { kind: 'open', min: 1, max: 50 } },
    ],
  },
};

let open: KioskStore[] = [];
afterEach(() => {
  for (const s of open) s.close();
  open = [];
});

function setup(balance: number, opts: { online?: boolean } = {}) {
  const { store, desk } = testKiosk([SCHEME], [
    { residentRef: ASHA.residentRef, wallet: 'living-credit', amount: balance },
  ] as PullPage['balances']);
  open.push(store);
  const engine = new MemoryEngineState();
  const net = { online: opts.online ?? true };
  const now = Date.UTC(2026, 5, 1, 10);
  const port = new KioskRedemption({
    store,
    desk,
    engine,
    online: () => net.online,
    now: () => now,
  });
  const tap = (residentRef: string, uid: string): void => {
    const venue = store.getVenue('v-pool');
    const service = store.getService('s-swim');
    if (!venue || !service) throw new Error('fixture');
    recordVisit(
      { store, engine, now: () => now },
      {
        kioskId: 'k-pool-1',
        venue,
        service,
        card: { cardHash: hashOf(uid), residentRef, ageBand: '13-19' },
        auth: { ...SIMULATED, counter: 7 },
        assisted: false,
      },
    );
  };
  const redemptions = () =>
    (
      store.db
        .prepare("SELECT payload FROM outbox WHERE type = 'redemption' ORDER BY seq")
        .all() as {
        payload: string;
      }[]
    ).map((r) => RedemptionEventSchema.parse(JSON.parse(r.payload)));
  return { store, port, net, tap, redemptions };
}

describe('kiosk redemption port', () => {
  it('lists what can be spent here, at fixed prices, for which the resident is eligible', () => {
    const { port } = setup(65);
    const { options, offer } = port.optionsFor(ASHA.residentRef);
    expect(offer).toBeNull();
    expect(options).toEqual([
      {
        id: 'living-credit/free-swim',
        wallet: 'living-credit',
        label: { en: 'Swim session' },
        price: 60,
        needsApproval: false,
        unavailable: null,
      },
      {
        id: 'living-credit/cafe-drink',
        wallet: 'living-credit',
        label: { en: 'A hot drink at the café' },
        price: 10,
        needsApproval: true,
        unavailable: null,
      },
    ]);
  });

  it('marks an option the balance does not cover as nothing to spend', () => {
    const { port } = setup(30);
    const swim = port.optionsFor(ASHA.residentRef).options.find((o) => o.price === 60);
    expect(swim?.unavailable).toBe('nothing-to-spend');
  });

  it('offers nothing to a resident with no balance, and passes on a targeted offer', () => {
    const { store } = setup(0);
    const offer = { id: 'of-1', title: { en: 'Half-price lessons' }, detail: null };
    const port = new KioskRedemption({
      store,
      desk: new DeskStore(store),
      engine: new MemoryEngineState(),
      online: () => true,
      offers: { offerFor: (ref) => (ref === BEN.residentRef ? offer : null) },
    });
    expect(port.optionsFor(BEN.residentRef)).toEqual({ options: [], offer });
    expect(port.optionsFor(ASHA.residentRef).offer).toBeNull();
  });

  it('redeems with the card of the last tap and records the event with its lines in one go', () => {
    const { port, tap, redemptions, store } = setup(65);
    tap(ASHA.residentRef, ASHA.uid);
    const r = port.redeem({
      residentRef: ASHA.residentRef,
      optionId: 'living-credit/free-swim',
      quantity: 1,
      approvedBy: null,
    });
    // 65 pulled + 10 earned by the tap − 60 spent.
    expect(r).toEqual({
      ok: true,
      balances: [{ wallet: 'living-credit', amount: 15, provisional: -50 }],
    });
    const [e] = redemptions();
    expect(e).toMatchObject({
      type: 'redemption',
      cardHash: hashOf(ASHA.uid),
      residentRef: ASHA.residentRef,
      serviceId: 's-swim',
      wallet: 'living-credit',
      schemeId: 'living-credit',
      ruleId: 'free-swim',
      outletId: null,
      quantity: 1,
      amount: 60,
      offline: false,
      approvedBy: null,
      // The counter belongs to the tap's visit: a redemption never reuses it.
      auth: { method: 'simulated', keyVersion: null, counter: null },
    });
    expect(store.balancesFor(ASHA.residentRef)[0]?.amount).toBe(15);
  });

  it('refuses what the rule does not allow, and records nothing', () => {
    const { port, tap, redemptions } = setup(65);
    tap(ASHA.residentRef, ASHA.uid);
    const ask = (optionId: string, approvedBy: string | null = null, quantity = 1) =>
      port.redeem({ residentRef: ASHA.residentRef, optionId, quantity, approvedBy });
    expect(ask('living-credit/cafe-drink')).toEqual({ ok: false, code: 'forbidden' });
    expect(ask('living-credit/free-swim', null, 2)).toEqual({
      ok: false,
      code: 'nothing-to-spend',
    });
    expect(ask('living-credit/free-gym')).toEqual({ ok: false, code: 'redemption-refused' });
    expect(ask('living-credit/no-such-rule')).toEqual({ ok: false, code: 'not-found' });
    expect(ask('living-credit/voucher')).toEqual({ ok: false, code: 'not-found' });
    expect(redemptions()).toEqual([]);
    expect(ask('living-credit/cafe-drink', 'st-alex')).toMatchObject({ ok: true });
    expect(redemptions().map((e) => [e.ruleId, e.approvedBy])).toEqual([['cafe-drink', 'st-alex']]);
  });

  it('refuses a resident who has not tapped here', () => {
    const { port } = setup(65);
    expect(
      port.redeem({
        residentRef: ASHA.residentRef,
        optionId: 'living-credit/free-swim',
        quantity: 1,
        approvedBy: null,
      }),
    ).toEqual({ ok: false, code: 'not-found' });
  });

  it('offline, keeps each card within the offline allowance until the backend settles', () => {
    const { port, tap, redemptions } = setup(200, { online: false });
    tap(ASHA.residentRef, ASHA.uid);
    const swim = () =>
      port.redeem({
        residentRef: ASHA.residentRef,
        optionId: 'living-credit/free-swim',
        quantity: 1,
        approvedBy: null,
      });
    expect(swim()).toMatchObject({ ok: true });
    expect(redemptions()[0]?.offline).toBe(true);
    // 60 of the 70 allowed offline is used: another 60 is refused, though the balance is there.
    expect(swim()).toEqual({ ok: false, code: 'offline-allowance-exceeded' });
    const options = port.optionsFor(ASHA.residentRef).options;
    expect(options.map((o) => [o.price, o.unavailable])).toEqual([
      [60, 'offline-allowance-exceeded'],
      [10, null],
    ]);
  });
});
