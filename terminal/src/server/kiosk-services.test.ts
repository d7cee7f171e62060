import { EventEmitter } from 'node:events';
import { cardHashOf, type CardAuth, type CardHash } from '@clubcard/shared';
import type { TapRead } from '@clubcard/hardware';
import type { PersonaliseResult } from '../card-auth/personalise-card.js';
import { describe, expect, it } from 'vitest';
import type { CoreMessage, KioskState, SpendOption } from '../bridge/kiosk-bridge.js';
import { KioskStore } from '../store/kiosk-store.js';
import { StaffStore } from '../store/staff-store.js';
import { hashPin } from '../staff/pin-hash.js';
import { BLANK_NTAG424 } from '../core/test-kiosk.js';
import {
  KioskServices,
  type DeskResult,
  type KioskServicesOptions,
  type PersonaliserPort,
  type RedemptionPort,
  type StaffDeskPort,
} from './kiosk-services.js';

type DeskOptions = Pick<KioskServicesOptions, 'desk' | 'enrolmentDesk' | 'personaliser'>;

const OPTION: SpendOption = {
  id: 'cafe/drink',
  wallet: 'living-credit',
  label: { en: 'A drink' },
  price: 10,
  needsApproval: true,
  unavailable: null,
};

function setup(kind: string, redemption?: RedemptionPort, more: DeskOptions = {}) {
  const store = new KioskStore(':memory:');
  store.setIdentity({
    kioskId: 'k-1',
    venueId: 'v-1',
    serviceId: 's-1',
    privateKey: '',
    backendPublicKey: '',
    cardHashKey: '00'.repeat(32),
  });
  store.db.prepare('INSERT INTO services (id, name, kind) VALUES (?, ?, ?)').run('s-1', 'S', kind);
  const core = new EventEmitter<{ message: [CoreMessage] }>() as EventEmitter<{
    message: [CoreMessage];
  }> & { state(): KioskState; syncNow(): void };
  core.state = () => ({ provisioned: true }) as KioskState;
  core.syncNow = () => undefined;
  const clock = { t: Date.UTC(2026, 0, 5, 10) };
  const staffStore = new StaffStore(store.db);
  const services = new KioskServices({
    core,
    store,
    staffStore,
    ...(redemption ? { redemption } : {}),
    ...more,
    now: () => clock.t,
  });
  const out: CoreMessage[] = [];
  services.on('message', (m) => out.push(m));
  const tap = (residentRef: string): CoreMessage => {
    core.emit('message', {
      type: 'outcome',
      outcome: {
        kind: 'recorded',
        eventId: 'e',
        seq: 1,
        residentRef,
        firstName: null,
        serviceName: 'S',
        venueName: 'V',
        authMethod: 'simulated',
        earned: [],
        balances: [],
      },
    });
    return out.at(-1)!;
  };
  return { store, staffStore, services, out, tap, clock, core };
}

/** Alex, staff at v-1, signed in with card and PIN. */
function signIn(services: KioskServices, staffStore: StaffStore): void {
  staffStore.applyStaff(
    [
      {
        staffRef: 'st-alex',
        firstName: 'Alex',
        pinHash: hashPin('2468', 10_000),
        venues: ['v-1'],
        status: 'active',
        cards: [{ cardHash: 'h-staff' as CardHash, status: 'active' }],
      },
    ],
    0,
  );
  expect(services.staffCardTapped('h-staff')).toBe(true);
  expect(services.staffPin('2468')).toEqual({ ok: true, code: null });
}

describe('kiosk screen services', () => {
  it('gives GP drop-in queue numbers per London day, the same one to a repeat check-in', () => {
    const { tap, services, clock } = setup('gp-drop-in');
    expect(services.state().mode).toBe('gp-drop-in');
    const n = (ref: string): number | null =>
      (tap(ref) as Extract<CoreMessage, { type: 'outcome' }>).resident?.queueNumber ?? null;
    expect([n('r-a'), n('r-b'), n('r-a'), n('r-c')]).toEqual([1, 2, 1, 3]);
    clock.t += 24 * 3600_000;
    expect(n('r-c')).toBe(1);
  });

  it('remembers the language of the resident on screen only, and only while on screen', () => {
    const { tap, services, staffStore, clock } = setup('leisure');
    tap('r-a');
    services.setLanguage('cy');
    expect(staffStore.languageOf('r-a')).toBe('cy');
    const again = tap('r-a') as Extract<CoreMessage, { type: 'outcome' }>;
    expect(again.resident?.language).toBe('cy');
    clock.t += 10 * 60_000;
    services.setLanguage('en');
    expect(staffStore.languageOf('r-a')).toBe('cy');
  });

  it('holds a redemption that needs approval until a signed-in staff member approves it', async () => {
    const redeemed: (string | null)[] = [];
    const port: RedemptionPort = {
      optionsFor: () => ({ options: [OPTION], offer: null }),
      redeem: (r) => (redeemed.push(r.approvedBy), { ok: true, balances: [] }),
    };
    const { tap, services, staffStore, store, out } = setup('leisure', port);
    tap('r-a');
    expect(services.redeem('cafe/unknown', 1)).toEqual({ ok: false, code: 'not-found' });
    expect(services.redeem('cafe/drink', 1)).toEqual({ ok: true, code: null });
    expect(out.at(-2)).toMatchObject({
      type: 'redemption',
      update: { status: 'awaiting-approval' },
    });
    expect(redeemed).toEqual([]);
    // Nobody signed in: the approval waits.
    expect(services.approve('a-1')).toEqual({ ok: false, code: 'unauthenticated' });
    signIn(services, staffStore);
    expect(services.staffCardTapped('h-resident')).toBe(false);
    const view = services.staffView();
    expect(view.approvals).toHaveLength(1);
    expect(services.approve(view.approvals[0]!.id)).toEqual({ ok: true, code: null });
    expect(redeemed).toEqual(['st-alex']);
    expect(out.filter((m) => m.type === 'redemption').at(-1)).toMatchObject({
      update: { status: 'done' },
    });
    expect(services.rejectedEvents()).toEqual([]);
    // The staff desk without its core/backend wiring says so, rather than pretending.
    expect(services.staffRecordVisit('r-abcdefgh')).toEqual({ ok: true, code: null });
    await new Promise((r) => setTimeout(r, 0));
    expect(services.staffView().desk).toMatchObject({
      status: 'refused',
      code: 'backend-unreachable',
    });
    // Cards for new residents are issued only at an enrolment desk.
    expect(services.staffCard({ purpose: 'replace', residentRef: 'r-abcdefgh' })).toEqual({
      ok: false,
      code: 'forbidden',
    });
    services.staffSignOut();
    expect(services.rejectedEvents()).toBeNull();
    services.close();
    store.close();
  });

  it('an enrolment desk personalises a BLANK_NTAG424 card before issuing it, and says what happened', async () => {
    const issued: { cardHash: string; auth: CardAuth }[] = [];
    const desk: StaffDeskPort = {
      lookup: async () => [],
      recordVisitByHand: async () => ({ ok: false, code: 'internal' }),
      recordConsent: async () => ({ ok: false, code: 'internal' }),
      enrol: async (r): Promise<DeskResult> => (
        issued.push({ cardHash: r.cardHash, auth: r.auth }),
        { ok: true, firstName: r.firstName }
      ),
      replaceCard: async () => ({ ok: false, code: 'internal' }),
    };
    const answers: ((r: PersonaliseResult) => void)[] = [];
    const personaliser: PersonaliserPort = {
      personalise: () => new Promise((resolve) => answers.push(resolve)),
    };
    const { services, staffStore, out } = setup('library', undefined, {
      desk,
      enrolmentDesk: true,
      personaliser,
    });
    signIn(services, staffStore);
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
    const enrol = (): void => {
      expect(services.staffCard({ purpose: 'enrol', firstName: 'Cat', ageBand: '20-29' })).toEqual({
        ok: true,
        code: null,
      });
    };
    /** Staff wait for a card, the card is tapped, and the personaliser answers. */
    const present = async (tap: TapRead, answer: PersonaliseResult): Promise<void> => {
      enrol();
      expect(services.offerBlankCard(tap)).toBe(true);
      answers.at(-1)!(answer);
      await tick();
    };
    // Not waiting for a new card: the BLANK_NTAG424 card is left to the tap pipeline.
    expect(services.offerBlankCard(BLANK_NTAG424)).toBe(false);
    expect(answers).toHaveLength(0);

    enrol();
    expect(services.offerBlankCard(BLANK_NTAG424)).toBe(true);
    expect(services.staffView().desk).toMatchObject({ status: 'personalising', action: 'enrol' });
    expect(out.at(-1)).toMatchObject({
      type: 'staff',
      staff: { desk: { status: 'personalising' } },
    });
    expect(issued).toEqual([]); // nothing bound before the card is verified
    const sun: CardAuth = { method: 'sun', keyVersion: 1, counter: 1 };
    answers[0]!({ ok: true, uid: '04AA11BB22CC44', auth: sun });
    await tick();
    expect(issued).toEqual([
      { cardHash: cardHashOf('00'.repeat(32), '04AA11BB22CC44'), auth: sun },
    ]);
    expect(services.staffView().desk).toMatchObject({ status: 'done', firstName: 'Cat' });

    // Pulled part-way: nothing is bound, and the desk says so.
    await present(BLANK_NTAG424, {
      ok: false,
      code: 'card-personalisation-interrupted',
      reason: 'gone',
    });
    expect(issued).toHaveLength(1);
    expect(services.staffView().desk).toMatchObject({
      status: 'refused',
      code: 'card-personalisation-interrupted',
    });

    // A card that proves itself with our keys already belongs to someone.
    enrol();
    expect(services.offerTap('h-other', sun)).toBe(true);
    await tick();
    expect(issued).toHaveLength(1);
    expect(services.staffView().desk).toMatchObject({
      status: 'refused',
      code: 'card-already-issued',
    });

    // Complete with our keys: someone's card (issued elsewhere, perhaps not yet known
    // here), never bound again …
    const other: TapRead = { ...BLANK_NTAG424, identifier: '04AA11BB22CC55' };
    await present(other, { ok: true, uid: other.identifier, auth: sun, keysFound: 'ours' });
    expect(issued).toHaveLength(1);
    expect(services.staffView().desk).toMatchObject({
      status: 'refused',
      code: 'card-already-issued',
    });
    // … unless this desk was interrupted while making it (taken away during the read-back):
    // tapped again, it is issued, once.
    const pulled: TapRead = { ...BLANK_NTAG424, identifier: '04aa11bb22cc66' };
    await present(pulled, { ok: false, code: 'card-personalisation-interrupted', reason: 'gone' });
    await present(pulled, { ok: true, uid: '04AA11BB22CC66', auth: sun, keysFound: 'ours' });
    expect(issued.at(-1)).toEqual({
      cardHash: cardHashOf('00'.repeat(32), '04AA11BB22CC66'),
      auth: sun,
    });
    expect(services.staffView().desk).toMatchObject({ status: 'done', firstName: 'Cat' });
    await present(pulled, { ok: true, uid: '04AA11BB22CC66', auth: sun, keysFound: 'ours' });
    expect(issued).toHaveLength(2);
    expect(services.staffView().desk).toMatchObject({ code: 'card-already-issued' });
    // Finished from part-way (some keys still factory): never issued before, so issued.
    const half: TapRead = { ...BLANK_NTAG424, identifier: '04AA11BB22CC77' };
    await present(half, { ok: true, uid: half.identifier, auth: sun, keysFound: 'partly-ours' });
    expect(issued).toHaveLength(3);
  });

  it('a desk without a personaliser (simulated reader) and a kiosk that is not a desk never personalise', () => {
    const calls: TapRead[] = [];
    const personaliser: PersonaliserPort = {
      personalise: async (t) => (
        calls.push(t),
        { ok: false, code: 'card-personalisation-failed', reason: 'x' }
      ),
    };
    const simulatedDesk = setup('library', undefined, { enrolmentDesk: true, personaliser: null });
    const plainKiosk = setup('library', undefined, { enrolmentDesk: false, personaliser });
    for (const { services, staffStore } of [simulatedDesk, plainKiosk]) {
      signIn(services, staffStore);
      services.staffCard({ purpose: 'enrol', firstName: null, ageBand: '75+' });
      expect(services.offerBlankCard(BLANK_NTAG424)).toBe(false);
    }
    // The kiosk that is not a desk was never waiting for a card either.
    expect(plainKiosk.services.staffView().desk?.status).toBe('idle');
    expect(calls).toEqual([]);
  });
});
