import { EventEmitter } from 'node:events';
import type { CardHash } from '@clubcard/shared';
import { describe, expect, it } from 'vitest';
import type { CoreMessage, KioskState, SpendOption } from '../bridge/kiosk-bridge.js';
import { KioskStore } from '../store/kiosk-store.js';
import { StaffStore } from '../store/staff-store.js';
import { hashPin } from '../staff/pin-hash.js';
import { KioskServices, type RedemptionPort } from './kiosk-services.js';

const OPTION: SpendOption = {
  id: 'cafe/drink',
  wallet: 'living-credit',
  label: { en: 'A drink' },
  price: 10,
  needsApproval: true,
  unavailable: null,
};

function setup(kind: string, redemption?: RedemptionPort) {
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
    expect(services.staffCardTapped('h-resident')).toBe(false);
    expect(services.staffCardTapped('h-staff')).toBe(true);
    expect(services.staffPin('2468')).toEqual({ ok: true, code: null });
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
});
