// Lives in the pcsc tier: every test that drives the machine's one pcscd runs in that
// tier, one file at a time, never beside another tier's pcscd test.
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tap, VirtualNtag21x, VirtualNtag424, type TapRead } from '@clubcard/hardware';
import {
  CardReplacementEventSchema,
  EnrolmentEventSchema,
  cardHashOf,
  hexToBytes,
} from '@clubcard/shared';
import { openBackend } from '@clubcard/backend/app';
import type {
  CoreMessage,
  StaffDeskView,
  TapOutcome,
} from '@clubcard/terminal/bridge/kiosk-bridge';
import { deriveIssuedCardKeys, type IssuingKeys } from '@clubcard/terminal/card-auth/card-keys';
import type { RunningKiosk } from '@clubcard/terminal/main';
import type { AdminService } from '@clubcard/backend/admin/admin-service';
import { artifactPath, launchChromium } from '../support/browser.js';
import { ensurePcscd, type PcscdHandle } from '../support/pcscd.js';
import { nextEvent } from './helpers.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { kioskOutbox, withBackendServices } from '../support/desk.js';
import { axeViolations, openScreen } from '../browser/screen-harness.js';

/**
 * The enrolment desk's personalisation on the real stack, through the kiosk as main.ts
 * composes it: virtual NTAG 424 DNA → vpcd → pcscd → PcscCardReader → kiosk core → the
 * screen services → CardPersonaliser over the reader's APDU channel → read back and
 * verified under the read keys → enrolment / card-replacement event → backend.
 */
const READ_MASTER = randomBytes(16);
const ISSUING_MASTER = randomBytes(16);
const ISSUING: IssuingKeys = {
  issuingKeyVersion: 4,
  issuingMasterKey: ISSUING_MASTER,
  readKeyVersion: 1,
  readMasterKey: READ_MASTER,
};
const READ_KEYS = {
  current: { version: 1, masterKeyHex: READ_MASTER.toString('hex') },
  previous: null,
};
const STAFF_UID = '04CAFE00000019';
const STAFF_PIN = '4826';
const NIA_OLD_UID = '04D1E5C0000001';
const CAT_UID = '04D1E5C0000002';
const NIA_NEW_UID = '04D1E5C0000003';
const OTHERS_UID = '04D1E5C0000004';
const PULLED_UID = '04D1E5C0000005';
const UNATTENDED_UID = '04D1E5C0000006';
const PLAIN_UID = '04D1E5C0000008';

/** ISO 7816 INS of the native commands that change a card (wrapped as 90 INS 00 00). */
const PERSONALISING_INS = new Set([0xd6, 0x71, 0x5f, 0xc4]); // UPDATE BINARY, Auth, ChangeFileSettings, ChangeKey

const keysFor = (uid: string): Buffer[] => {
  const k = deriveIssuedCardKeys(ISSUING, hexToBytes(uid));
  return [k.appMaster.key, k.sdmFileRead.key, k.sdmMetaRead.key, k.spare3.key, k.spare4.key];
};

let pcscd: PcscdHandle;
let sys: TestSystem;
let browser: Browser;
let desk: RunningKiosk;
let cardKey: string;
let nia: string;

beforeAll(async () => {
  pcscd = await ensurePcscd();
  sys = await createTestSystem();
  await sys.startBackend();
  const setup = withBackendServices(sys, ({ staff, admin }) => {
    staff.issueCard(staff.add({ firstName: 'Alex', venues: ['*'], pin: STAFF_PIN }), {
      uid: STAFF_UID,
    });
    const ref = admin.addResident({ firstName: 'Nia', ageBand: '20-29', ward: 'riverside' });
    admin.issueCard({ residentRef: ref, uid: NIA_OLD_UID, technology: 'ntag424', keyVersion: 1 });
    // Demo kiosk 0 becomes the enrolment desk; kiosk 1 stays an unattended kiosk. The
    // desk's venue refuses cards that prove nothing, as a blank NTAG 424 DNA does.
    admin.setEnrolmentDesk('k-riverside-1', true);
    riversidePolicy(admin, false);
    return ref;
  });
  cardKey = setup.cardKey;
  nia = setup.result;
  browser = await launchChromium();
  desk = await sys.startKiosk(0, {
    reader: 'pcsc',
    demo: null,
    readKeys: READ_KEYS,
    enrolmentDesk: true,
    issuingKey: {
      version: ISSUING.issuingKeyVersion,
      masterKeyHex: ISSUING_MASTER.toString('hex'),
    },
  });
  await desk.sync.syncOnce();
  await readerAttached(desk);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sys?.cleanup();
  await pcscd?.stop();
});

/** Sets whether the desk's venue accepts cards that prove nothing (plain UID cards). */
function riversidePolicy(admin: AdminService, allowUidOnly: boolean): void {
  admin.addVenue({
    id: 'v-riverside-leisure',
    name: 'Riverside Leisure Centre',
    type: 'leisure-centre',
    ward: 'riverside',
    allowUidOnly,
    services: ['s-swim', 's-gym'],
  });
}

async function readerAttached(k: RunningKiosk): Promise<void> {
  if (k.reader.readers().length > 0) return;
  await new Promise<void>((resolve) => k.reader.once('reader-attached', () => resolve()));
}

function signIn(k: RunningKiosk): void {
  expect(k.services.staffCardTapped(cardHashOf(cardKey, STAFF_UID))).toBe(true);
  expect(k.services.staffPin(STAFF_PIN)).toEqual({ ok: true, code: null });
}

/** The desk's statuses from now on, and its next result (done or refused). */
function deskResult(k: RunningKiosk): { seen: string[]; result: Promise<StaffDeskView> } {
  const seen: string[] = [];
  const result = new Promise<StaffDeskView>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no desk result')), 30_000);
    const on = (m: CoreMessage): void => {
      if (m.type !== 'staff' || !m.staff.desk) return;
      seen.push(m.staff.desk.status);
      if (m.staff.desk.status === 'done' || m.staff.desk.status === 'refused') {
        clearTimeout(timer);
        k.services.off('message', on);
        resolve(m.staff.desk);
      }
    };
    k.services.on('message', on);
  });
  return { seen, result };
}

/** Holds a card on the reader until the desk has answered. */
async function tapAtDesk(
  k: RunningKiosk,
  card: VirtualNtag424 | VirtualNtag21x,
): Promise<{
  view: StaffDeskView;
  seen: string[];
}> {
  const { seen, result } = deskResult(k);
  const left = cardLeft(k);
  await tap(card, { until: result, holdMs: 30_000 });
  const view = await result;
  await left;
  return { view, seen };
}

/**
 * Resolves once the kiosk's reader has seen the card leave. pcscd polls vpcd about every
 * 400 ms: a reader started before that poll would still be told a card is present (one
 * that has gone) and fail to read it. A real reader reports the removal itself.
 */
function cardLeft(k: RunningKiosk): Promise<unknown> {
  return nextEvent(k.reader, 'card-removed', 10_000);
}

/** A resident's tap, and the kiosk's answer to it. */
async function residentTap(
  k: RunningKiosk,
  card: VirtualNtag424 | VirtualNtag21x,
): Promise<TapOutcome> {
  const answered = new Promise<TapOutcome>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer from the kiosk')), 8000);
    const on = (m: CoreMessage): void => {
      if (m.type === 'outcome') {
        clearTimeout(timer);
        k.core.off('message', on);
        resolve(m.outcome);
      }
    };
    k.core.on('message', on);
  });
  const left = cardLeft(k);
  await tap(card, { until: answered });
  const outcome = await answered;
  await left;
  return outcome;
}

async function screenSignedIn(k: RunningKiosk): Promise<{ page: Page; close(): Promise<void> }> {
  const { page, context } = await openScreen(browser, k.uiUrl);
  signIn(k);
  await page.locator('#staff-panel[data-status="signed-in"]').waitFor();
  return { page, close: () => context.close() };
}

describe('an enrolment desk personalises blank NTAG 424 DNA cards', () => {
  it('enrols a resident with a blank card: keys and SUN written, read back as genuine, then issued', async () => {
    const screen = await screenSignedIn(desk);
    expect(
      desk.services.staffCard({ purpose: 'enrol', firstName: 'Cat', ageBand: '20-29' }),
    ).toEqual({ ok: true, code: null });
    const card = VirtualNtag424.blank(CAT_UID);
    const progress = screen.page
      .locator('#desk-status[data-status="personalising"]', {
        hasText: 'Keep the card on the reader',
      })
      .waitFor()
      .then(() => screen.page.screenshot({ path: artifactPath('desk-personalising.png') }));
    const { view, seen } = await tapAtDesk(desk, card);
    await progress;
    expect(seen[0]).toBe('personalising');
    expect(view).toMatchObject({ status: 'done', action: 'enrol', firstName: 'Cat' });
    await screen.page.locator('#desk-status', { hasText: 'Enrolled: Cat.' }).waitFor();
    await screen.page.screenshot({ path: artifactPath('desk-personalised.png') });

    const [enrolled] = kioskOutbox(desk, 'enrolment').map((x) =>
      EnrolmentEventSchema.parse(x.payload),
    );
    expect(enrolled).toMatchObject({
      firstName: 'Cat',
      cardHash: cardHashOf(cardKey, CAT_UID),
      technology: 'ntag424',
      keyVersion: 1,
      counter: card.readCounter, // the read-back's
    });
    desk.services.staffSignOut();
    // The read-back's SUN message, played back (a recording of the desk's exchange), is
    // already spent.
    card.replaySun();
    expect(await residentTap(desk, card)).toMatchObject({
      kind: 'refused',
      code: 'card-replayed',
    });
    card.stopReplay();
    // Staff signed out, the card is a genuine SUN card: Cat's tap is a visit.
    const visit = await residentTap(desk, card);
    expect(visit).toMatchObject({ kind: 'recorded', authMethod: 'sun', firstName: 'Cat' });
    // A copy of its UID on a card without the keys proves nothing.
    const clone = VirtualNtag424.personalised({
      uid: CAT_UID,
      keys: [0, 1, 2, 3, 4].map(() => randomBytes(16)),
    });
    expect(await residentTap(desk, clone)).toMatchObject({
      kind: 'refused',
      code: 'card-not-genuine',
    });
    await screen.close();
  });

  it('replaces a lost card with a blank one; the backend issues it with its key version and blocks the old one', async () => {
    signIn(desk);
    expect(desk.services.staffCard({ purpose: 'replace', residentRef: nia })).toEqual({
      ok: true,
      code: null,
    });
    const { view } = await tapAtDesk(desk, VirtualNtag424.blank(NIA_NEW_UID));
    expect(view).toMatchObject({ status: 'done', action: 'replace', firstName: 'Nia' });
    const [replaced] = kioskOutbox(desk, 'card-replacement').map((x) =>
      CardReplacementEventSchema.parse(x.payload),
    );
    expect(replaced).toMatchObject({
      residentRef: nia,
      cardHash: cardHashOf(cardKey, NIA_NEW_UID),
      technology: 'ntag424',
      keyVersion: 1,
      replacedCardHashes: [cardHashOf(cardKey, NIA_OLD_UID)],
    });
    desk.services.staffSignOut();
    const old = VirtualNtag424.personalised({ uid: NIA_OLD_UID, keys: keysFor(NIA_OLD_UID) });
    expect(await residentTap(desk, old)).toMatchObject({ kind: 'refused', code: 'card-blocked' });

    await desk.sync.syncOnce();
    for (const type of ['enrolment', 'card-replacement']) {
      expect(kioskOutbox(desk, type).map((x) => x.status)).toEqual(['accepted']);
    }
    const { store } = openBackend(sys.backendConfig, join(sys.dir, 'backend.sqlite'));
    const cards = [CAT_UID, NIA_NEW_UID, NIA_OLD_UID].map((uid) =>
      store.getCard(cardHashOf(cardKey, uid)),
    );
    store.close();
    expect(cards.map((c) => [c?.technology, c?.keyVersion, c?.status])).toEqual([
      ['ntag424', 1, 'active'],
      ['ntag424', 1, 'active'],
      ['ntag424', 1, 'blocked'],
    ]);
  });

  it('refuses a card already personalised with our keys: it belongs to someone', async () => {
    const screen = await screenSignedIn(desk);
    desk.services.staffCard({ purpose: 'enrol', firstName: 'Dai', ageBand: '30-44' });
    const before = kioskOutbox(desk, 'enrolment').length;
    // As a desk leaves it: our keys, carrying our key versions (KeyVer of keys 0-4).
    const v = [ISSUING.issuingKeyVersion, ISSUING.readKeyVersion, ISSUING.readKeyVersion];
    const card = VirtualNtag424.personalised({
      uid: OTHERS_UID,
      keys: keysFor(OTHERS_UID),
      keyVersions: [...v, ISSUING.issuingKeyVersion, ISSUING.issuingKeyVersion],
    });
    const sent: number[] = [];
    card.on('apdu', (x) => sent.push(x.command[1]!));
    const { view } = await tapAtDesk(desk, card);
    expect(view).toMatchObject({ status: 'refused', code: 'card-already-issued' });
    // Opened with our key 0 (proof it is ours), and nothing written to it.
    expect(sent.filter((ins) => PERSONALISING_INS.has(ins) && ins !== 0x71)).toEqual([]);
    await screen.page
      .locator('#desk-status', {
        hasText:
          'That did not work. This card already belongs to someone. Please use a new, blank card.',
      })
      .waitFor();
    expect(kioskOutbox(desk, 'enrolment').length).toBe(before);
    expect(desk.store.getCard(cardHashOf(cardKey, OTHERS_UID))).toBeNull();
    desk.services.staffSignOut();
    await screen.close();
  });

  it('a card pulled mid-personalisation leaves nothing issued, and is finished when tapped again', async () => {
    const screen = await screenSignedIn(desk);
    desk.services.staffCard({ purpose: 'enrol', firstName: 'Eli', ageBand: '45-64' });
    const before = kioskOutbox(desk, 'enrolment').length;
    const card = VirtualNtag424.blank(PULLED_UID);
    // Taken off the reader while its keys are being changed (the second ChangeKey).
    let changeKeys = 0;
    card.on('apdu', (x) => {
      if (x.command[1] === 0xc4 && ++changeKeys === 1) {
        card.injectFault({ kind: 'remove-during-apdu', atApdu: x.index + 1 });
      }
    });
    const { view } = await tapAtDesk(desk, card);
    expect(changeKeys).toBeGreaterThanOrEqual(1);
    expect(view).toMatchObject({ status: 'refused', code: 'card-personalisation-interrupted' });
    await screen.page
      .locator('#desk-status', { hasText: 'The card was taken off the reader before it was ready' })
      .waitFor();
    expect(await screen.page.locator('#desk-status').innerText()).toContain(
      'start again and tap the same card',
    );
    await screen.page.screenshot({ path: artifactPath('desk-personalisation-interrupted.png') });
    expect(await axeViolations(screen.page)).toEqual([]);
    expect(kioskOutbox(desk, 'enrolment').length).toBe(before);
    expect(desk.store.getCard(cardHashOf(cardKey, PULLED_UID))).toBeNull();
    // Half-made (SUN on, some keys changed): tapped again, the desk finishes it and it
    // reads back as genuine before it is issued.
    card.clearFaults();
    const sent: number[] = [];
    card.on('apdu', (x) => sent.push(x.command[1]!));
    desk.services.staffCard({ purpose: 'enrol', firstName: 'Eli', ageBand: '45-64' });
    const again = await tapAtDesk(desk, card);
    expect(again.view).toMatchObject({ status: 'done', action: 'enrol', firstName: 'Eli' });
    expect(sent).toContain(0x64); // GetKeyVersion: where it stopped
    expect(desk.store.getCard(cardHashOf(cardKey, PULLED_UID))).toMatchObject({
      status: 'active',
    });
    expect(kioskOutbox(desk, 'enrolment').length).toBe(before + 1);
    // And it taps as a resident's card anywhere.
    expect(await residentTap(desk, card)).toMatchObject({ kind: 'recorded', firstName: 'Eli' });
    desk.services.staffSignOut();
    await screen.close();
  });

  it('plain UID cards are issued as they are, where the venue accepts them', async () => {
    const card = new VirtualNtag21x({ uid: PLAIN_UID });
    signIn(desk);
    desk.services.staffCard({ purpose: 'enrol', firstName: 'Gwen', ageBand: '65-74' });
    // Here they are not accepted: refused on the screen, and the desk still waits.
    expect(await residentTap(desk, card)).toMatchObject({
      kind: 'refused',
      code: 'uid-only-not-allowed',
    });
    expect(desk.services.staffView().desk?.status).toBe('waiting-card');
    sys.admin((admin) => riversidePolicy(admin, true));
    await desk.sync.syncOnce();
    const sent: number[] = [];
    card.on('apdu', (x) => sent.push(x.command[1]!));
    const { view } = await tapAtDesk(desk, card);
    expect(view).toMatchObject({ status: 'done', action: 'enrol', firstName: 'Gwen' });
    const gwen = kioskOutbox(desk, 'enrolment')
      .map((x) => EnrolmentEventSchema.parse(x.payload))
      .find((e) => e.firstName === 'Gwen');
    expect(gwen).toMatchObject({
      cardHash: cardHashOf(cardKey, PLAIN_UID),
      technology: 'ntag21x',
      keyVersion: null,
    });
    expect(sent.filter((ins) => PERSONALISING_INS.has(ins))).toEqual([]);
    desk.services.staffSignOut();
  });

  it('a kiosk that is not an enrolment desk never personalises a card', async () => {
    await desk.close();
    const unattended = await sys.startKiosk(1, { reader: 'pcsc', demo: null, readKeys: READ_KEYS });
    await unattended.sync.syncOnce();
    await readerAttached(unattended);
    signIn(unattended);
    expect(
      unattended.services.staffCard({ purpose: 'enrol', firstName: 'Fay', ageBand: '75+' }),
    ).toEqual({ ok: false, code: 'forbidden' });
    const card = VirtualNtag424.blank(UNATTENDED_UID);
    const sent: number[] = [];
    card.on('apdu', (x) => sent.push(x.command[1]!));
    // The first tap after the previous kiosk let the reader go is read like any other.
    const outcome = await residentTap(unattended, card);
    // Judged like any card (here: a plain UID card nobody holds), and nothing written to it.
    expect(outcome).toMatchObject({ kind: 'refused', code: 'card-not-registered' });
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((ins) => PERSONALISING_INS.has(ins))).toEqual([]);
    const blankTap: TapRead = {
      readerName: unattended.reader.readers()[0]!.name,
      technology: 'ntag424',
      identifier: UNATTENDED_UID,
      proof: { kind: 'none' },
      detectedAt: 0,
      apduMs: 0,
    };
    expect(unattended.services.offerBlankCard(blankTap)).toBe(false);
    // Read again: still blank, no SUN.
    const again = await residentTap(unattended, card);
    expect(again.kind).toBe('refused');
    expect(sent.filter((ins) => PERSONALISING_INS.has(ins))).toEqual([]);
    expect(kioskOutbox(unattended, 'enrolment')).toEqual([]);
  });
});
