import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cardHashOf, newEventId, residentAccount } from '@clubcard/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdminService } from '../admin/admin-service.js';
import { openBackend } from '../app.js';
import { loadBackendConfig } from '../config.js';
import { replayCheck } from '../ledger/replay.js';
import { SqliteEngineState } from '../rewards/engine-state.js';
import type { KioskRow } from '../store/repository.js';
import type { SqliteBackendStore } from '../store/sqlite-store.js';
import { ingestBatch, setEnrolmentDesk } from './ingest.js';

/**
 * The enrolment desk's events at the backend: an enrolment creates the resident and binds
 * the card; a card replacement binds the new card and blocks the old one, the balance
 * staying with the resident. Only a desk may send them, and bad ones change nothing.
 */
let dir: string;
let store: SqliteBackendStore;
let admin: AdminService;
let cardKey: string;
let desk: KioskRow;
let plain: KioskRow;
let ben: string;
const BEN_UID = '04A1B2C3D4E502';
const NOW = Date.UTC(2026, 5, 1, 10);
const seqs = new Map<string, number>();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'desk-ingest-'));
  const config = loadBackendConfig({ overrides: { dataDir: dir, logLevel: 'silent' } });
  const opened = openBackend(config, join(dir, 'backend.sqlite'));
  store = opened.store;
  cardKey = opened.secrets.cardHashKey;
  admin = new AdminService(store, opened.secrets, () => NOW);
  admin.addService({ id: 's-library', name: 'Library', kind: 'library' });
  admin.addVenue({
    id: 'v-library',
    name: 'Central Library',
    type: 'library',
    ward: 'castle',
    services: ['s-library'],
  });
  admin.publishScheme({
    id: 'reading',
    version: 1,
    name: 'Reading credits',
    wallet: 'learning-points',
    validFrom: '2020-01-01T00:00:00Z',
    earning: [
      {
        id: 'visit',
        trigger: { eventType: 'visit', serviceKinds: ['library'] },
        amount: { kind: 'fixed', value: 5 },
      },
    ],
  });
  ben = admin.addResident({ firstName: 'Ben', ageBand: '30-44', ward: 'riverside' });
  admin.issueCard({ residentRef: ben, uid: BEN_UID, technology: 'simulated' });
  for (const id of ['k-desk-1', 'k-library-1']) {
    admin.addKiosk({ id, venueId: 'v-library', serviceId: 's-library' });
  }
  desk = store.getKiosk('k-desk-1')!;
  plain = store.getKiosk('k-library-1')!;
  setEnrolmentDesk(store, desk.id, true);
  seqs.clear();
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const hash = (uid: string): string => cardHashOf(cardKey, uid);

function base(kiosk: KioskRow): { id: string; [k: string]: unknown } {
  const seq = (seqs.get(kiosk.id) ?? 0) + 1;
  seqs.set(kiosk.id, seq);
  return {
    id: newEventId(),
    kioskId: kiosk.id,
    seq,
    occurredAt: new Date(NOW).toISOString(),
    venueId: kiosk.venueId,
  };
}

const enrolment = (kiosk: KioskRow, over: Record<string, unknown> = {}) => ({
  ...base(kiosk),
  type: 'enrolment',
  residentRef: 'r-0196f0c1a2b37c4d8e9f0a1b2c3d4e5f',
  firstName: 'Cat',
  ageBand: '20-29',
  cardHash: hash('04BEEF00000001'),
  technology: 'ntag424',
  staffRef: 'st-alex',
  ...over,
});

const replacement = (kiosk: KioskRow, over: Record<string, unknown> = {}) => ({
  ...base(kiosk),
  type: 'card-replacement',
  residentRef: ben,
  cardHash: hash('04BEEF00000002'),
  technology: 'simulated',
  replacedCardHashes: [hash(BEN_UID)],
  staffRef: 'st-alex',
  ...over,
});

const visit = (kiosk: KioskRow, uid: string, residentRef: string, over = {}) => ({
  ...base(kiosk),
  type: 'visit',
  cardHash: hash(uid),
  residentRef,
  serviceId: 's-library',
  auth: { method: 'simulated', keyVersion: null, counter: null },
  assisted: false,
  ...over,
});

function push(kiosk: KioskRow, events: unknown[]) {
  return ingestBatch(store, kiosk, events, NOW, { engine: new SqliteEngineState(store.db) })
    .results;
}

const cardChanges = (): string[] =>
  store
    .changesSince(0, 1000)
    .filter((c) => c.kind === 'card')
    .map((c) => c.key);

describe('enrolment desk events at the backend', () => {
  it('an enrolment creates the resident and binds the card, sent to kiosks in the pull', () => {
    const e = enrolment(desk);
    const before = cardChanges().length;
    expect(push(desk, [e])).toEqual([{ id: e.id, seq: 1, status: 'accepted', lines: [] }]);
    expect(store.getResident(e.residentRef)).toEqual({
      ref: e.residentRef,
      firstName: 'Cat',
      ageBand: '20-29',
      ward: 'castle',
      createdAt: NOW,
    });
    expect(store.getCard(e.cardHash)).toEqual({
      cardHash: e.cardHash,
      residentRef: e.residentRef,
      status: 'active',
      technology: 'ntag424',
      keyVersion: null,
    });
    expect(cardChanges().slice(before)).toEqual([e.cardHash]);
    // Issued as a secure card, it must prove itself on every tap.
    const proofless = visit(desk, '04BEEF00000001', e.residentRef);
    expect(push(desk, [proofless])[0]?.code).toBe('card-not-genuine');
    // A card enrolled at a (demo) desk with the simulated reader is usable at once.
    const sim = enrolment(desk, {
      residentRef: 'r-0196f0c1a2b37c4d8e9f0a1b2c3d4e60',
      cardHash: hash('04BEEF00000003'),
      technology: 'simulated',
    });
    expect(push(desk, [sim])[0]?.status).toBe('accepted');
    const v = visit(desk, '04BEEF00000003', sim.residentRef as string);
    expect(push(desk, [v])[0]?.status).toBe('accepted');
    expect(replayCheck(store).mismatches).toEqual([]);
  });

  it('a secure card issued with its read-back counter: that counter is the highest seen, sent to kiosks', () => {
    const e = enrolment(desk, {
      residentRef: 'r-0196f0c1a2b37c4d8e9f0a1b2c3d4e61',
      cardHash: hash('04BEEF00000011'),
      keyVersion: 2,
      counter: 3,
    });
    expect(store.highestCounter(e.cardHash)).toBeNull();
    expect(push(desk, [e])[0]?.status).toBe('accepted');
    expect(store.highestCounter(e.cardHash)).toBe(3);
    expect(cardChanges()).toContain(e.cardHash);
    const r = replacement(desk, {
      residentRef: e.residentRef,
      cardHash: hash('04BEEF00000012'),
      technology: 'ntag424',
      replacedCardHashes: [e.cardHash],
      keyVersion: 2,
      counter: 1,
    });
    expect(push(desk, [r])[0]?.status).toBe('accepted');
    expect(store.highestCounter(r.cardHash)).toBe(1);
    // A desk that predates the field sends none: nothing is noted.
    const old = enrolment(desk, {
      residentRef: 'r-0196f0c1a2b37c4d8e9f0a1b2c3d4e62',
      cardHash: hash('04BEEF00000013'),
    });
    expect(push(desk, [old])[0]?.status).toBe('accepted');
    expect(store.highestCounter(old.cardHash)).toBeNull();
  });

  it('a replacement blocks the old card, binds the new one, and the balance stays', () => {
    push(plain, [visit(plain, BEN_UID, ben), visit(plain, BEN_UID, ben)]);
    const balance = () => store.balancesOf(residentAccount(ben));
    expect(balance()).toEqual([{ wallet: 'learning-points', amount: 10 }]);
    const r = replacement(desk);
    expect(push(desk, [r])[0]?.status).toBe('accepted');
    expect(store.getCard(hash(BEN_UID))?.status).toBe('blocked');
    expect(store.getCard(r.cardHash)).toMatchObject({ residentRef: ben, status: 'active' });
    expect(cardChanges().slice(-2).sort()).toEqual([hash(BEN_UID), r.cardHash].sort());
    expect(balance()).toEqual([{ wallet: 'learning-points', amount: 10 }]);
    // The new card earns into the same balance.
    expect(push(plain, [visit(plain, '04BEEF00000002', ben)])[0]?.status).toBe('accepted');
    expect(balance()).toEqual([{ wallet: 'learning-points', amount: 15 }]);
    expect(replayCheck(store).mismatches).toEqual([]);
  });

  it('a replacement blocks every active card of the resident, not only those the desk knew', () => {
    // A second card issued in the back office after the desk last pulled: the desk's
    // event names only the card it knew, yet both are lost with the resident's wallet.
    admin.issueCard({ residentRef: ben, uid: '04A1B2C3D4E504', technology: 'simulated' });
    expect(store.activeCardsOfResident(ben).sort()).toEqual(
      [hash(BEN_UID), hash('04A1B2C3D4E504')].sort(),
    );
    const r = replacement(desk, { keyVersion: 3, technology: 'ntag424' });
    expect(push(desk, [r])[0]?.status).toBe('accepted');
    expect(store.getCard(hash(BEN_UID))?.status).toBe('blocked');
    expect(store.getCard(hash('04A1B2C3D4E504'))?.status).toBe('blocked');
    expect(store.activeCardsOfResident(ben)).toEqual([r.cardHash]);
    // The desk's personalised card is recorded with its read-key version.
    expect(store.getCard(r.cardHash)).toMatchObject({ technology: 'ntag424', keyVersion: 3 });
    expect(cardChanges().slice(-3).sort()).toEqual(
      [hash(BEN_UID), hash('04A1B2C3D4E504'), r.cardHash].sort(),
    );
    // Another resident's cards are untouched.
    const other = admin.addResident({ firstName: 'Dee', ageBand: '45-64', ward: 'castle' });
    admin.issueCard({ residentRef: other, uid: '04A1B2C3D4E505', technology: 'simulated' });
    expect(store.activeCardsOfResident(other)).toEqual([hash('04A1B2C3D4E505')]);
    expect(store.activeCardsOfResident('r-unknown00000')).toEqual([]);
  });

  it('refuses them from a kiosk that is not an enrolment desk', () => {
    const results = push(plain, [enrolment(plain), replacement(plain)]);
    expect(results.map((x) => [x.status, x.code])).toEqual([
      ['rejected', 'forbidden'],
      ['rejected', 'forbidden'],
    ]);
    expect(store.getResident('r-0196f0c1a2b37c4d8e9f0a1b2c3d4e5f')).toBeNull();
    expect(store.getCard(hash(BEN_UID))?.status).toBe('active');
    setEnrolmentDesk(store, desk.id, false);
    expect(push(desk, [enrolment(desk)])[0]?.code).toBe('forbidden');
  });

  it('refuses bad ones with a code and changes nothing', () => {
    const before = cardChanges().length;
    const other = admin.addResident({ firstName: 'Dee', ageBand: '45-64', ward: 'castle' });
    admin.issueCard({ residentRef: other, uid: '04A1B2C3D4E503', technology: 'simulated' });
    const afterSetup = cardChanges().length;
    const results = push(desk, [
      // A card already bound to someone.
      enrolment(desk, { cardHash: hash(BEN_UID) }),
      replacement(desk, { cardHash: hash('04A1B2C3D4E503') }),
      // A resident the council does not know.
      replacement(desk, { residentRef: 'r-unknown00000' }),
      // An enrolment reusing a resident's reference.
      enrolment(desk, { residentRef: ben }),
      // Blocking someone else's card.
      replacement(desk, { replacedCardHashes: [hash('04A1B2C3D4E503')] }),
      // Not the protocol's shape.
      enrolment(desk, { ageBand: 'teen' }),
      replacement(desk, { staffRef: null }),
    ]);
    expect(results.map((x) => [x.status, x.code])).toEqual([
      ['rejected', 'card-already-issued'],
      ['rejected', 'card-already-issued'],
      ['rejected', 'not-found'],
      ['rejected', 'bad-request'],
      ['rejected', 'card-not-registered'],
      ['rejected', 'validation-failed'],
      ['rejected', 'validation-failed'],
    ]);
    expect(afterSetup).toBeGreaterThan(before);
    expect(cardChanges().length).toBe(afterSetup);
    expect(store.getCard(hash(BEN_UID))).toMatchObject({ residentRef: ben, status: 'active' });
    expect(store.getCard(hash('04A1B2C3D4E503'))).toMatchObject({
      residentRef: other,
      status: 'active',
    });
    expect(store.getCard(hash('04BEEF00000002'))).toBeNull();
  });

  it('a visit recorded by hand must be assisted and name the staff member', () => {
    const manual = { method: 'staff-manual', keyVersion: null, counter: null };
    const results = push(plain, [
      visit(plain, BEN_UID, ben, { auth: manual, assisted: true }),
      visit(plain, BEN_UID, ben, { auth: { ...manual, staffRef: 'st-alex' }, assisted: false }),
      visit(plain, BEN_UID, ben, { auth: { ...manual, staffRef: 'st-alex' }, assisted: true }),
    ]);
    expect(results.map((x) => [x.status, x.code])).toEqual([
      ['rejected', 'validation-failed'],
      ['rejected', 'validation-failed'],
      ['accepted', undefined],
    ]);
  });
});
