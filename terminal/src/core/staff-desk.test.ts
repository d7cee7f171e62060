import {
  CardReplacementEventSchema,
  ConsentEventSchema,
  EnrolmentEventSchema,
  MemoryEngineState,
  ResidentRefSchema,
  VisitEventSchema,
} from '@clubcard/shared';
import { afterEach, describe, expect, it } from 'vitest';
import type { KioskStore } from '../store/kiosk-store.js';
import { StaffStore } from '../store/staff-store.js';
import { KioskStaffDesk, newKioskResidentRef } from './staff-desk.js';
import { ASHA, BEN, EARN_ON_SWIM, SIMULATED, hashOf, testKiosk } from './test-kiosk.js';

const NEW_CARD = hashOf('04BEEF00000001');

let open: KioskStore[] = [];
afterEach(() => {
  for (const s of open) s.close();
  open = [];
});

function setup(enrolmentDesk: boolean) {
  const { store, desk } = testKiosk([EARN_ON_SWIM]);
  open.push(store);
  const port = new KioskStaffDesk({
    store,
    desk,
    engine: new MemoryEngineState(),
    enrolmentDesk,
    now: () => Date.UTC(2026, 5, 1, 10),
  });
  const events = () =>
    (
      store.db.prepare('SELECT payload FROM outbox ORDER BY seq').all() as { payload: string }[]
    ).map((r) => JSON.parse(r.payload) as { type: string });
  return { store, port, events };
}

describe('kiosk staff desk', () => {
  it('finds residents this kiosk knows by first name (any case) or reference', async () => {
    const { port } = setup(false);
    expect(await port.lookup('ben')).toEqual([
      { residentRef: BEN.residentRef, firstName: 'Ben', ageBand: '30-44' },
    ]);
    expect((await port.lookup(ASHA.residentRef)).map((r) => r.firstName)).toEqual(['Asha']);
    expect((await port.lookup('r-')).length).toBe(2);
    // LIKE wildcards in the query are matched literally, not as patterns.
    expect(await port.lookup('%')).toEqual([]);
    expect(await port.lookup('_en')).toEqual([]);
    expect(await port.lookup('nobody')).toEqual([]);
  });

  it('records a visit by hand: staff-manual, assisted, the staff member named, credit earned', async () => {
    const { port, events, store } = setup(false);
    expect(
      await port.recordVisitByHand({ residentRef: BEN.residentRef, staffRef: 'st-alex' }),
    ).toEqual({ ok: true, firstName: 'Ben' });
    const [visit] = events().map((e) => VisitEventSchema.parse(e));
    expect(visit).toMatchObject({
      type: 'visit',
      residentRef: BEN.residentRef,
      cardHash: hashOf(BEN.uid),
      serviceId: 's-swim',
      assisted: true,
      auth: { method: 'staff-manual', keyVersion: null, counter: null, staffRef: 'st-alex' },
    });
    expect(store.balancesFor(BEN.residentRef)).toEqual([
      { wallet: 'living-credit', amount: 10, provisional: 10 },
    ]);
  });

  it('refuses a visit by hand for an unknown resident or without a staff member', async () => {
    const { port, events } = setup(false);
    expect(
      await port.recordVisitByHand({ residentRef: 'r-nobody0000', staffRef: 'st-alex' }),
    ).toEqual({ ok: false, code: 'not-found' });
    expect(
      await port.recordVisitByHand({ residentRef: BEN.residentRef, staffRef: 'alex' }),
    ).toEqual({ ok: false, code: 'unauthenticated' });
    expect(events()).toEqual([]);
  });

  it('records consent per purpose, with the volunteered attributes once, in one transaction', async () => {
    const { port, events } = setup(false);
    const r = await port.recordConsent({
      residentRef: ASHA.residentRef,
      analytics: true,
      healthVisits: true,
      contact: false,
      attributes: ['carer', 'student', 'carer'],
      staffRef: 'st-alex',
    });
    expect(r).toEqual({ ok: true, firstName: 'Asha' });
    const consents = events().map((e) => ConsentEventSchema.parse(e));
    expect(consents.map((c) => [c.purpose, c.given, c.attributes, c.assistedBy])).toEqual([
      ['analytics', true, ['carer', 'student'], 'st-alex'],
      ['segmentation-health', true, null, 'st-alex'],
      ['contact', false, null, 'st-alex'],
    ]);
  });

  it('enrols and replaces cards only at an enrolment desk', async () => {
    const { port, events } = setup(false);
    expect(
      await port.enrol({
        firstName: 'Cat',
        ageBand: '20-29',
        cardHash: NEW_CARD,
        auth: SIMULATED,
        staffRef: 'st-alex',
      }),
    ).toEqual({ ok: false, code: 'forbidden' });
    expect(
      await port.replaceCard({
        residentRef: BEN.residentRef,
        cardHash: NEW_CARD,
        auth: SIMULATED,
        staffRef: 'st-alex',
      }),
    ).toEqual({ ok: false, code: 'forbidden' });
    expect(events()).toEqual([]);
  });

  it('enrols a new resident: a fresh ref, the card usable here at once', async () => {
    const { port, events, store } = setup(true);
    const r = await port.enrol({
      firstName: '  Cat ',
      ageBand: '20-29',
      cardHash: NEW_CARD,
      auth: { method: 'sun', keyVersion: 2, counter: 4 },
      staffRef: 'st-alex',
    });
    expect(r).toEqual({ ok: true, firstName: 'Cat' });
    const [e] = events().map((x) => EnrolmentEventSchema.parse(x));
    expect(e).toMatchObject({
      type: 'enrolment',
      firstName: 'Cat',
      ageBand: '20-29',
      cardHash: NEW_CARD,
      technology: 'ntag424',
      keyVersion: 2,
      // The read-back's SUN counter: spent, so that message is refused as a replay.
      counter: 4,
      staffRef: 'st-alex',
    });
    expect(store.highestCounter(NEW_CARD)).toBe(4);
    expect(store.getCard(NEW_CARD)).toEqual({
      cardHash: NEW_CARD,
      residentRef: e?.residentRef,
      status: 'active',
      firstName: 'Cat',
      ageBand: '20-29',
      // None until the backend sends what schemes use.
      categories: [],
      consents: [],
    });
    expect(store.requiresProof(NEW_CARD)).toBe(true);
  });

  it('refuses to enrol a card already issued (to a resident or a staff member)', async () => {
    const { port, events, store } = setup(true);
    const enrol = (cardHash: string) =>
      port.enrol({
        firstName: null,
        ageBand: '75+',
        cardHash,
        auth: SIMULATED,
        staffRef: 'st-alex',
      });
    expect(await enrol(hashOf(ASHA.uid))).toEqual({ ok: false, code: 'card-already-issued' });
    new StaffStore(store.db).applyStaff(
      [
        {
          staffRef: 'st-alex',
          firstName: 'Alex',
          pinHash: 'x',
          venues: ['*'],
          status: 'active',
          cards: [{ cardHash: NEW_CARD, status: 'active' }],
        },
      ] as unknown as Parameters<StaffStore['applyStaff']>[0],
      0,
    );
    expect(await enrol(NEW_CARD)).toEqual({ ok: false, code: 'card-already-issued' });
    expect(await enrol('not-a-hash')).toEqual({ ok: false, code: 'bad-request' });
    expect(events()).toEqual([]);
  });

  it('replaces a lost card: the old one blocked at once, the new one bound to the resident', async () => {
    const { port, events, store } = setup(true);
    store.applyPullPage(
      {
        protocol: 1,
        kioskId: 'k-pool-1' as never,
        cursor: 1,
        nextCursor: 2,
        hasMore: false,
        serverTime: 0,
        cards: [],
        balances: [
          { residentRef: BEN.residentRef as never, wallet: 'living-credit' as never, amount: 40 },
        ],
        schemes: [],
        services: [],
        venues: [],
      },
      0,
    );
    const r = await port.replaceCard({
      residentRef: BEN.residentRef,
      cardHash: NEW_CARD,
      auth: SIMULATED,
      staffRef: 'st-alex',
    });
    expect(r).toEqual({ ok: true, firstName: 'Ben' });
    const [e] = events().map((x) => CardReplacementEventSchema.parse(x));
    expect(e).toMatchObject({
      residentRef: BEN.residentRef,
      cardHash: NEW_CARD,
      technology: 'simulated',
      replacedCardHashes: [hashOf(BEN.uid)],
      staffRef: 'st-alex',
    });
    expect(store.getCard(hashOf(BEN.uid))?.status).toBe('blocked');
    expect(store.getCard(NEW_CARD)).toMatchObject({
      residentRef: BEN.residentRef,
      status: 'active',
    });
    // The balance belongs to the resident, so it is there for the new card.
    expect(store.balancesFor(BEN.residentRef)[0]?.amount).toBe(40);
    // Replacing for someone unknown, or with a card already issued, changes nothing.
    expect(
      await port.replaceCard({
        residentRef: 'r-nobody0000',
        cardHash: hashOf('04BEEF00000002'),
        auth: SIMULATED,
        staffRef: 'st-alex',
      }),
    ).toEqual({ ok: false, code: 'not-found' });
    expect(
      await port.replaceCard({
        residentRef: ASHA.residentRef,
        cardHash: NEW_CARD,
        auth: SIMULATED,
        staffRef: 'st-alex',
      }),
    ).toEqual({ ok: false, code: 'card-already-issued' });
    expect(store.getCard(hashOf(ASHA.uid))?.status).toBe('active');
    expect(events().length).toBe(1);
  });

  it('makes resident refs the protocol accepts, never twice the same', () => {
    const a = newKioskResidentRef();
    expect(ResidentRefSchema.safeParse(a).success).toBe(true);
    expect(newKioskResidentRef()).not.toBe(a);
  });
});
