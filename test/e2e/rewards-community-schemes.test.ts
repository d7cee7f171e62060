import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SimulatedReader } from '@clubcard/hardware';
import {
  KioskEventSchema,
  MemoryEngineState,
  cardHashOf,
  checkRedemption,
  evaluate,
  newEventId,
  type EngineResult,
  type EvaluationContext,
  type KioskEvent,
  type LedgerLine,
} from '@clubcard/shared';
import { loadExampleSchemes } from '@clubcard/shared/rules/example-schemes';
import { openBackend } from '@clubcard/backend/app';
import { SqliteEngineState } from '@clubcard/backend/rewards/engine-state';
import { RewardsService } from '@clubcard/backend/rewards/rewards-service';
import type { TapOutcome } from '@clubcard/terminal/bridge/kiosk-bridge';
import { kioskContext } from '@clubcard/terminal/core/evaluation-context';
import type { RunningKiosk } from '@clubcard/terminal/main';
import { outletPost } from '../support/outlet.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { tapAndAnswer } from '../support/tap.js';

/**
 * The example schemes rewards-schemes.test.ts does not cover, end to end: learning
 * points, the time bank and a ward target funding a neighbourhood budget. Each goes
 * kiosk (event in the outbox with the kiosk's provisional answer) → push → the backend's
 * authoritative lines → pulled balances → redemption at a kiosk and at an outlet.
 *
 * Visits come from taps on the simulated reader. Sessions, time-bank records and
 * confirmations and ward contributions have no kiosk screen yet, so they are appended to
 * the kiosk's outbox the way the tap pipeline appends a visit: evaluated by the shared
 * engine on a provisional state with the kiosk's own context (kioskContext: the pulled
 * age band, categories and consents of every resident concerned), in the same
 * transaction as the event.
 */

let sys: TestSystem | null = null;
afterEach(async () => {
  await sys?.cleanup();
  sys = null;
});

/** Reward administration on the backend database (another connection, as the CLI does). */
function rewards<T>(s: TestSystem, fn: (r: RewardsService) => T): T {
  const { store, secrets } = openBackend(s.backendConfig, join(s.dir, 'backend.sqlite'));
  try {
    return fn(new RewardsService(store, new SqliteEngineState(store.db), secrets.cardHashKey));
  } finally {
    store.close();
  }
}

/** The backend's authoritative lines of one event. */
function backendLines(s: TestSystem, eventId: string): LedgerLine[] {
  const { store } = openBackend(s.backendConfig, join(s.dir, 'backend.sqlite'));
  try {
    return store.linesOfEvent(eventId);
  } finally {
    store.close();
  }
}

/** A resident as the kiosk holds them (pulled age band, categories and consents). */
function heldBy(kiosk: RunningKiosk, residentRef: string) {
  const known = kiosk.store.eligibilityOf(residentRef);
  if (!known) throw new Error('resident not pulled by this kiosk');
  return { residentRef, ...known };
}

/** Balances of any ledger account on the backend (resident, time bank, ward, outlet). */
function backendBalance(s: TestSystem, account: string, wallet: string): number {
  const { store } = openBackend(s.backendConfig, join(s.dir, 'backend.sqlite'));
  try {
    return store.balancesOf(account).find((b) => b.wallet === wallet)?.amount ?? 0;
  } finally {
    store.close();
  }
}

/** A venue with one service and a kiosk there; returns the kiosk's index for startKiosk. */
function addKioskSite(
  s: TestSystem,
  site: {
    kioskId: string;
    venue: { id: string; name: string; type: 'college' | 'community-centre'; ward: string };
    service: { id: string; name: string; kind: 'learning' | 'community' };
  },
): number {
  const k = s.admin((a) => {
    a.addService(site.service);
    a.addVenue({ ...site.venue, allowUidOnly: true, services: [site.service.id] });
    return a.addKiosk({ id: site.kioskId, venueId: site.venue.id, serviceId: site.service.id });
  });
  s.demo.kiosks.push({
    kioskId: k.kioskId,
    code: k.code,
    venueId: site.venue.id,
    serviceId: site.service.id,
  });
  return s.demo.kiosks.length - 1;
}

/** Taps a card and resolves with the kiosk's answer (shown once the tap is on disk). */
function tap(kiosk: RunningKiosk, uid: string): Promise<TapOutcome> {
  if (!(kiosk.reader instanceof SimulatedReader)) throw new Error('expected the simulated reader');
  return tapAndAnswer(kiosk.core, kiosk.reader, uid);
}

/**
 * Appends one event of a resident's card at this kiosk with its provisional answer, as
 * the tap pipeline does: the shared engine on the kiosk's provisional state and the
 * kiosk's own context, event and lines in one outbox transaction.
 */
function recordAtKiosk(
  kiosk: RunningKiosk,
  provisional: MemoryEngineState,
  uid: string,
  fields: Record<string, unknown>,
  occurredAt = new Date(),
): { event: KioskEvent; result: EngineResult } {
  const id = kiosk.store.identity()!;
  const venue = kiosk.store.getVenue(id.venueId)!;
  const service = kiosk.store.getService(id.serviceId)!;
  const card = kiosk.store.getCard(cardHashOf(id.cardHashKey, uid));
  if (!card) throw new Error('card not pulled by this kiosk');
  let result: EngineResult | null = null;
  const out = kiosk.store.appendEvent((seq) => {
    const event = KioskEventSchema.parse({
      id: newEventId(),
      kioskId: id.kioskId,
      seq,
      occurredAt: occurredAt.toISOString(),
      venueId: venue.id,
      cardHash: card.cardHash,
      residentRef: card.residentRef,
      serviceId: service.id,
      auth: { method: 'simulated', keyVersion: null, counter: null },
      ...fields,
    });
    const others =
      event.type === 'time-record'
        ? [event.receiverRef]
        : event.type === 'time-confirm'
          ? [event.giverRef, event.receiverRef]
          : [];
    result = evaluate(
      provisional,
      event,
      kioskContext(
        venue,
        service,
        heldBy(kiosk, card.residentRef),
        others.map((ref) => heldBy(kiosk, ref)),
      ),
      kiosk.store.listSchemes(),
    );
    return { event, lines: result.lines };
  });
  provisional.apply(result!.stateDelta);
  return { event: out.event, result: result! };
}

/** checkRedemption as a kiosk runs it before it lets a resident spend (online). */
function checkAtKiosk(
  s: TestSystem,
  kiosk: RunningKiosk,
  residentRef: string,
  r: {
    schemeId: string;
    ruleId: string;
    outlet: { id: string; categories: string[] } | null;
    approvedBy: string | null;
  },
): ReturnType<typeof checkRedemption> {
  const id = kiosk.store.identity()!;
  const venue = kiosk.store.getVenue(id.venueId)!;
  const service = kiosk.store.getService(id.serviceId)!;
  const { store } = openBackend(s.backendConfig, join(s.dir, 'backend.sqlite'));
  try {
    const ctx: EvaluationContext = {
      ...kioskContext(venue, service, heldBy(kiosk, residentRef)),
      outlet: r.outlet ?? { id: venue.id, categories: [] },
    };
    return checkRedemption(
      new SqliteEngineState(store.db),
      {
        residentRef,
        at: Date.now(),
        schemeId: r.schemeId,
        ruleId: r.ruleId,
        quantity: 1,
        venueId: venue.id,
        serviceId: service.id,
        outletId: r.outlet?.id ?? null,
        approvedBy: r.approvedBy,
        offline: null,
      },
      ctx,
      kiosk.store.listSchemes(),
    );
  } finally {
    store.close();
  }
}

function redemptionFields(r: {
  wallet: string;
  schemeId: string;
  ruleId: string;
  outletId: string | null;
  amount: number;
  approvedBy: string | null;
}): Record<string, unknown> {
  return { type: 'redemption', quantity: 1, offline: false, ...r };
}

const DAY = 86_400_000;
const walletOf = (k: RunningKiosk, ref: string, wallet: string) =>
  k.store.balancesFor(ref).find((b) => b.wallet === wallet);

describe('more example schemes end to end', () => {
  it('learning points: library visit and class sessions (pro rata, capped, a 4-day streak) credited by the backend, spent on a bus ticket at a kiosk and on books at an outlet', async () => {
    const s = (sys = await createTestSystem());
    const dafydd = s.demo.residents[3]!; // 20–29, castle
    const college = addKioskSite(s, {
      kioskId: 'k-castle-college-1',
      venue: { id: 'v-castle-college', name: 'Castle College', type: 'college', ward: 'castle' },
      service: { id: 's-adult-learning', name: 'Adult learning', kind: 'learning' },
    });
    const bookshopKey = rewards(s, (r) => {
      r.publish(loadExampleSchemes());
      r.grants.setAttributes({
        residentRef: dafydd.residentRef,
        add: { categories: ['in-education'] },
      });
      r.outlets.add({ id: 'o-city-buses', name: 'City Buses', categories: ['transport'] });
      r.outlets.add({ id: 'o-bookshop', name: 'Bookshop', categories: ['learning-resources'] });
      return r.outlets.issueKey('o-bookshop').apiKey;
    });
    const b = await s.startBackend();
    const library = await s.startKiosk(1);
    const classroom = await s.startKiosk(college);
    await library.sync.syncOnce();
    await classroom.sync.syncOnce();

    // The pull carries the categories published schemes use (in-education), so the
    // kiosk credits learning points provisionally, as the backend will.
    expect(library.store.eligibilityOf(dafydd.residentRef)).toMatchObject({
      categories: ['in-education'],
      consents: [],
    });
    const visit = await tap(library, dafydd.uid);
    expect(visit.kind).toBe('recorded');
    if (visit.kind !== 'recorded') return;
    expect(visit.earned.filter((e) => e.wallet === 'learning-points')).toEqual([
      { wallet: 'learning-points', amount: 2 },
    ]);

    const provisional = new MemoryEngineState();
    const now = Date.now();
    // Classes on 4 London days within 4 weeks (two on the first day).
    const sessions = [
      [240, 3],
      [240, 3],
      [300, 2],
      [60, 1],
      [240, 0],
    ].map(([minutes, daysAgo]) =>
      recordAtKiosk(
        classroom,
        provisional,
        dafydd.uid,
        { type: 'session', assisted: false, minutes },
        new Date(now - daysAgo! * DAY),
      ),
    );
    const earned = (lines: readonly LedgerLine[]): number =>
      lines.reduce((n, l) => n + (l.wallet === 'learning-points' ? l.amount : 0), 0);
    // 40 + 40 + 40 (capped) + 10 + 40, and the 4-day streak's 50.
    expect(sessions.map((x) => earned(x.result.lines))).toEqual([40, 40, 40, 10, 90]);

    await library.sync.syncOnce();
    await classroom.sync.syncOnce();
    expect(classroom.store.rejectedEvents()).toEqual([]);
    // The backend's authoritative lines are the kiosk's provisional ones.
    for (const x of sessions) expect(backendLines(s, x.event.id)).toEqual(x.result.lines);
    expect(earned(backendLines(s, visit.eventId))).toBe(2);
    // 2 (library) + 40 + 40 + 40 (300 minutes capped at 240) + 10 + 40, and 50 for
    // classes on 4 days within 4 weeks.
    expect(backendBalance(s, `resident:${dafydd.residentRef}`, 'learning-points')).toBe(222);
    expect(walletOf(classroom, dafydd.residentRef, 'learning-points')).toEqual({
      wallet: 'learning-points',
      amount: 222,
      provisional: 0,
    });

    // A bus day ticket sold at the library kiosk on behalf of City Buses.
    const nowhere = checkAtKiosk(s, library, dafydd.residentRef, {
      schemeId: 'learning-points',
      ruleId: 'bus-day-ticket',
      outlet: null,
      approvedBy: null,
    });
    expect(nowhere.reasons.map((r) => r.code)).toEqual(['not-here']);
    const ticket = checkAtKiosk(s, library, dafydd.residentRef, {
      schemeId: 'learning-points',
      ruleId: 'bus-day-ticket',
      outlet: { id: 'o-city-buses', categories: ['transport'] },
      approvedBy: null,
    });
    expect(ticket).toMatchObject({ ok: true, price: 150, available: 222 });
    recordAtKiosk(
      library,
      new MemoryEngineState(),
      dafydd.uid,
      redemptionFields({
        wallet: 'learning-points',
        schemeId: 'learning-points',
        ruleId: 'bus-day-ticket',
        outletId: 'o-city-buses',
        amount: ticket.price,
        approvedBy: null,
      }),
    );
    await library.sync.syncOnce();
    expect(library.store.rejectedEvents()).toEqual([]);
    expect(walletOf(library, dafydd.residentRef, 'learning-points')).toEqual({
      wallet: 'learning-points',
      amount: 72,
      provisional: 0,
    });
    expect(backendBalance(s, 'outlet:o-city-buses', 'learning-points')).toBe(150);

    // Books at the bookshop's till (no kiosk): the outlet endpoint with its own key.
    const cardHash = cardHashOf(library.store.identity()!.cardHashKey, dafydd.uid);
    const refused = [
      await outletPost(b.url, bookshopKey, {
        cardHash,
        category: 'learning-resources',
        amount: 80,
      }),
      await outletPost(b.url, bookshopKey, {
        cardHash,
        category: 'learning-resources',
        amount: 30,
      }),
    ];
    expect(refused.map((r) => r.status)).toEqual([409, 409]);
    const reasons = refused.map((r) =>
      (r.body.error as { details: { reasons: { code: string }[] } }).details.reasons.map(
        (x) => x.code,
      ),
    );
    // More than the balance; below the open price's lower bound (50–2000).
    expect(reasons).toEqual([['insufficient-balance'], ['over-maximum']]);
    const books = await outletPost(b.url, bookshopKey, {
      cardHash,
      category: 'learning-resources',
      amount: 60,
    });
    expect(books.status).toBe(201);
    expect(books.body).toMatchObject({ outletId: 'o-bookshop', amount: 60, balance: 12 });
    expect(backendBalance(s, `resident:${dafydd.residentRef}`, 'learning-points')).toBe(12);
  });

  it('time bank: hours recorded by the giver and confirmed by the receiver or an organiser; the bank’s account absorbs what the credit limit stops; time spent on a workshop with staff approval', async () => {
    const s = (sys = await createTestSystem());
    const [, ben, cerys, dafydd] = s.demo.residents;
    const site = addKioskSite(s, {
      kioskId: 'k-castle-community-1',
      venue: {
        id: 'v-castle-community',
        name: 'Castle Community Centre',
        type: 'community-centre',
        ward: 'castle',
      },
      service: { id: 's-time-bank', name: 'Time bank', kind: 'community' },
    });
    rewards(s, (r) => {
      r.publish(loadExampleSchemes());
      for (const m of [ben!, cerys!, dafydd!]) {
        r.grants.setAttributes({ residentRef: m.residentRef, add: { consents: ['time-bank'] } });
      }
    });
    await s.startBackend();
    const kiosk = await s.startKiosk(site);
    await kiosk.sync.syncOnce();
    const provisional = new MemoryEngineState();
    type Member = { uid: string; residentRef: string };
    const give = (giver: Member, receiver: Member, minutes: number) =>
      recordAtKiosk(kiosk, provisional, giver.uid, {
        schemeId: 'time-bank',
        type: 'time-record',
        receiverRef: receiver.residentRef,
        minutes,
        activity: 'help at home',
      });
    const confirm = (
      card: Member,
      record: ReturnType<typeof give>,
      by: 'receiver' | 'organiser',
    ) => {
      if (record.event.type !== 'time-record') throw new Error('not a time record');
      return recordAtKiosk(kiosk, provisional, card.uid, {
        schemeId: 'time-bank',
        type: 'time-confirm',
        recordId: record.event.id,
        giverRef: record.event.residentRef,
        receiverRef: record.event.receiverRef,
        confirmedBy: by,
        staffRef: by === 'organiser' ? 'st-organiser' : null,
      });
    };

    // Ben gives Cerys 90 minutes; Cerys confirms with her own card.
    const rec1 = give(ben!, cerys!, 90);
    expect(rec1.result.messages.map((m) => m.code)).toEqual(['awaiting-confirmation']);
    // The pull carries the time-bank consent (a scheme's eligibility needs it), so the
    // kiosk knows both are members: the hours are credited provisionally.
    for (const m of [ben!, cerys!]) {
      expect(kiosk.store.eligibilityOf(m.residentRef)).toMatchObject({ consents: ['time-bank'] });
    }
    const conf1 = confirm(cerys!, rec1, 'receiver');
    expect(conf1.result.messages.map((m) => m.code)).not.toContain('not-eligible');
    expect(conf1.result.lines).toMatchObject([
      { wallet: 'time-credit', from: 'timebank:time-bank', to: `resident:${ben!.residentRef}` },
      { wallet: 'time-credit', from: `resident:${cerys!.residentRef}`, to: 'timebank:time-bank' },
    ]);
    expect(conf1.result.lines.map((l) => l.amount)).toEqual([90, 90]);
    await kiosk.sync.syncOnce();
    expect(kiosk.store.rejectedEvents()).toEqual([]);
    expect(backendLines(s, conf1.event.id)).toEqual(conf1.result.lines);
    expect(walletOf(kiosk, ben!.residentRef, 'time-credit')).toEqual({
      wallet: 'time-credit',
      amount: 90,
      provisional: 0,
    });
    expect(walletOf(kiosk, cerys!.residentRef, 'time-credit')).toEqual({
      wallet: 'time-credit',
      amount: -90,
      provisional: 0,
    });

    // 480 more minutes from Ben, confirmed by an organiser (Ben's card, staff mode); then
    // 60 from Dafydd, confirmed by Cerys: she can go 600 below zero, the bank takes 30.
    const conf2 = confirm(ben!, give(ben!, cerys!, 480), 'organiser');
    const rec3 = give(dafydd!, cerys!, 60);
    // A "receiver" confirmation with another member's card is refused before it is stored.
    const backlog = kiosk.store.stats().backlog;
    expect(() => confirm(ben!, rec3, 'receiver')).toThrow();
    expect(kiosk.store.stats().backlog).toBe(backlog);
    const conf3 = confirm(cerys!, rec3, 'receiver');
    await kiosk.sync.syncOnce();
    expect(kiosk.store.rejectedEvents()).toEqual([]);
    // Provisionally as at the backend, the credit limit included.
    for (const c of [conf2, conf3]) expect(backendLines(s, c.event.id)).toEqual(c.result.lines);
    expect(conf3.result.lines.map((l) => l.amount)).toEqual([60, 30]);
    const balance = (ref: string): number => backendBalance(s, ref, 'time-credit');
    expect(balance(`resident:${ben!.residentRef}`)).toBe(570);
    expect(balance(`resident:${dafydd!.residentRef}`)).toBe(60);
    expect(balance(`resident:${cerys!.residentRef}`)).toBe(-600);
    expect(balance('timebank:time-bank')).toBe(-30);
    expect(walletOf(kiosk, cerys!.residentRef, 'time-credit')?.amount).toBe(-600);

    // Ben spends two hours on a skills workshop here; staff must approve.
    const ask = {
      schemeId: 'time-bank',
      ruleId: 'skills-workshop',
      outlet: null,
      approvedBy: null,
    };
    expect(checkAtKiosk(s, kiosk, ben!.residentRef, ask).reasons.map((r) => r.code)).toEqual([
      'approval-required',
    ]);
    expect(
      checkAtKiosk(s, kiosk, cerys!.residentRef, { ...ask, approvedBy: 'st-organiser' }).reasons,
    ).toMatchObject([{ code: 'insufficient-balance' }]);
    const ok = checkAtKiosk(s, kiosk, ben!.residentRef, { ...ask, approvedBy: 'st-organiser' });
    expect(ok).toMatchObject({ ok: true, price: 120, needsApproval: true, available: 570 });
    recordAtKiosk(
      kiosk,
      provisional,
      ben!.uid,
      redemptionFields({
        wallet: 'time-credit',
        schemeId: 'time-bank',
        ruleId: 'skills-workshop',
        outletId: null,
        amount: ok.price,
        approvedBy: 'st-organiser',
      }),
    );
    await kiosk.sync.syncOnce();
    expect(kiosk.store.rejectedEvents()).toEqual([]);
    expect(walletOf(kiosk, ben!.residentRef, 'time-credit')).toEqual({
      wallet: 'time-credit',
      amount: 450,
      provisional: 0,
    });
    expect(balance('outlet:v-castle-community')).toBe(120);
  });

  it('ward target: recycling weighed in at a kiosk meets the monthly target and pays the ward’s neighbourhood budget, provisionally at the kiosk and once at the backend', async () => {
    const s = (sys = await createTestSystem());
    const [asha, ben] = s.demo.residents;
    const site = addKioskSite(s, {
      kioskId: 'k-riverside-recycling-1',
      venue: {
        id: 'v-riverside-recycling',
        name: 'Riverside Recycling Point',
        type: 'community-centre',
        ward: 'riverside',
      },
      service: { id: 's-recycling', name: 'Recycling', kind: 'community' },
    });
    rewards(s, (r) => r.publish(loadExampleSchemes()));
    await s.startBackend();
    const kiosk = await s.startKiosk(site);
    await kiosk.sync.syncOnce();
    const provisional = new MemoryEngineState();
    const weigh = (uid: string, kg: number) =>
      recordAtKiosk(kiosk, provisional, uid, {
        type: 'ward-contribution',
        wardId: 'riverside',
        measure: 'recycling-kg',
        quantity: kg,
      });

    expect(weigh(ben!.uid, 300).result.lines).toEqual([]);
    const met = weigh(asha!.uid, 250).result;
    const payment = {
      schemeId: 'ward-recycling-target',
      ruleId: 'recycling-monthly',
      wallet: 'neighbourhood-budget',
      from: 'scheme:ward-recycling-target',
      to: 'ward:riverside',
      amount: 50000,
    };
    expect(met.lines).toMatchObject([payment]);
    expect(met.messages).toMatchObject([{ code: 'ward-target-met', wardId: 'riverside' }]);
    // Past the target in the same month: no second payment.
    expect(weigh(ben!.uid, 100).result.lines).toEqual([]);

    await kiosk.sync.syncOnce();
    expect(kiosk.store.stats().backlog).toBe(0);
    expect(kiosk.store.rejectedEvents()).toEqual([]);
    expect(backendBalance(s, 'ward:riverside', 'neighbourhood-budget')).toBe(50000);
    expect(backendBalance(s, 'scheme:ward-recycling-target', 'neighbourhood-budget')).toBe(-50000);
    expect(backendBalance(s, 'ward:castle', 'neighbourhood-budget')).toBe(0);
    // Residents' own wallets are untouched by a collective reward.
    for (const m of [asha!, ben!]) {
      expect(
        kiosk.store.balancesFor(m.residentRef).filter((x) => x.wallet !== 'neighbourhood-budget'),
      ).toEqual([]);
    }
  });
});
