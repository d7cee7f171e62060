import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  CardReplacementEventSchema,
  ConsentEventSchema,
  EnrolmentEventSchema,
  RedemptionEventSchema,
  VisitEventSchema,
  cardHashOf,
} from '@clubcard/shared';
import { SimulatedReader } from '@clubcard/hardware';
import { backendServices, openBackend } from '@clubcard/backend/app';
import { setEnrolmentDesk } from '@clubcard/backend/sync/ingest';
import type { RunningKiosk } from '@clubcard/terminal/main';
import { artifactPath, launchChromium } from '../support/browser.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { kioskOutbox } from '../support/desk.js';
import { axeViolations, openScreen } from './screen-harness.js';

/**
 * The kiosk as `npm start` composes it (terminal/src/main.ts), not a stand-in: the screen
 * served by the kiosk's own UI server, taps through its simulated reader and the real tap
 * pipeline, redemption by the rules engine's redemption rules, the staff desk writing to
 * the outbox, and the backend ingesting what the kiosk pushes.
 */
const STAFF_UID = '04CAFE00000009';
const STAFF_PIN = '4826';
const NEW_CARD = '04BEEF00000011';
const REPLACEMENT_CARD = '04BEEF00000012';

let sys: TestSystem;
let browser: Browser;
let pool: RunningKiosk;
let desk: RunningKiosk;
let staffRef: string;
let cardKey: string;

beforeAll(async () => {
  sys = await createTestSystem();
  await sys.startBackend();
  const { store, secrets } = openBackend(sys.backendConfig, join(sys.dir, 'backend.sqlite'));
  try {
    cardKey = secrets.cardHashKey;
    const services = backendServices(store, secrets);
    // Living credits that buy a hot drink at the pool (and a swim, with staff approval).
    services.admin.publishScheme({
      id: 'living-credit',
      version: 2,
      name: 'Living credits for active sessions',
      wallet: 'living-credit',
      validFrom: '2021-01-01T00:00:00Z',
      earning: [
        {
          id: 'leisure-visit',
          trigger: { eventType: 'visit', serviceKinds: ['leisure'] },
          amount: { kind: 'fixed', value: 10 },
        },
      ],
      redemption: {
        offlineAllowance: 100,
        rules: [
          {
            id: 'cafe-drink',
            item: 'hot-drink',
            description: 'A hot drink at the café',
            price: { kind: 'fixed', amount: 10 },
          },
        ],
      },
    });
    staffRef = services.staff.add({ firstName: 'Alex', venues: ['*'], pin: STAFF_PIN });
    services.staff.issueCard(staffRef, { uid: STAFF_UID });
    setEnrolmentDesk(store, 'k-library-1', true);
  } finally {
    store.close();
  }
  browser = await launchChromium();
  pool = await sys.startKiosk(0);
  desk = await sys.startKiosk(1, {
    enrolmentDesk: true,
    issuingKey: { version: 1, masterKeyHex: '0f'.repeat(16) },
  });
  await pool.sync.syncOnce();
  await desk.sync.syncOnce();
});

afterAll(async () => {
  await browser?.close();
  await sys?.cleanup();
});

const tap = (k: RunningKiosk, uid: string): void => {
  if (!(k.reader instanceof SimulatedReader)) throw new Error('simulated reader expected');
  k.reader.tap(uid);
};

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: artifactPath(name), fullPage: true });
  expect(await axeViolations(page)).toEqual([]);
}

async function signIn(k: RunningKiosk, page: Page): Promise<void> {
  tap(k, STAFF_UID);
  await page.locator('#staff-panel[data-status="awaiting-pin"]').waitFor();
  await page.locator('#pin').fill(STAFF_PIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#staff-panel[data-status="signed-in"]').waitFor();
}

async function findResident(page: Page, name: string): Promise<void> {
  await page.getByLabel('First name or reference').fill(name);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#lookup-results li').first().waitFor();
}

describe('the kiosk as composed by main.ts', () => {
  it('tap, see what can be spent, spend: the redemption is in the outbox and reaches the backend', async () => {
    const asha = sys.demo.residents[0]!;
    const { page, context } = await openScreen(browser, pool.uiUrl);
    tap(pool, asha.uid);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    await page.getByRole('button', { name: 'Spend credits' }).click();
    await page.locator('[data-option="living-credit/cafe-drink"]').click();
    await page.getByRole('button', { name: 'Yes, spend it' }).click();
    await page.locator('#redeem-panel[data-status="done"]').waitFor();
    await shot(page, 'wired-redeem-done.png');
    const [r] = kioskOutbox(pool, 'redemption');
    expect(RedemptionEventSchema.parse(r?.payload)).toMatchObject({
      residentRef: asha.residentRef,
      cardHash: cardHashOf(cardKey, asha.uid),
      schemeId: 'living-credit',
      ruleId: 'cafe-drink',
      wallet: 'living-credit',
      amount: 10,
      quantity: 1,
      approvedBy: null,
    });
    // Earned 10 on the tap, spent 10: nothing left, provisionally.
    expect(pool.store.balancesFor(asha.residentRef)).toEqual([
      { wallet: 'living-credit', amount: 0, provisional: 0 },
    ]);
    await pool.sync.syncOnce();
    expect(kioskOutbox(pool, 'redemption').map((x) => x.status)).toEqual(['accepted']);
    await context.close();
  });

  it('a staff card and PIN open staff mode; a visit recorded by hand is marked staff-manual', async () => {
    const ben = sys.demo.residents[1]!;
    const { page, context } = await openScreen(browser, pool.uiUrl);
    const visitsBefore = kioskOutbox(pool, 'visit').length;
    await signIn(pool, page);
    // The staff card's tap was staff mode's, not a visit.
    expect(kioskOutbox(pool, 'visit').length).toBe(visitsBefore);
    await findResident(page, 'Ben');
    await page.getByRole('button', { name: 'Record a visit (card forgotten)' }).click();
    await page.locator('#desk-status[data-status="done"]').waitFor();
    await shot(page, 'wired-visit-by-hand.png');
    const manual = kioskOutbox(pool, 'visit')
      .map((x) => VisitEventSchema.parse(x.payload))
      .at(-1);
    expect(manual).toMatchObject({
      residentRef: ben.residentRef,
      assisted: true,
      auth: { method: 'staff-manual', keyVersion: null, counter: null, staffRef },
    });
    // Consent given at the desk, one statement per purpose.
    await page.getByRole('button', { name: 'Consent and details' }).click();
    await page.getByLabel(/May the council use their visits/).check();
    await page.getByLabel('Carer').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#desk-status', { hasText: 'Consent saved for Ben.' }).waitFor();
    const consents = kioskOutbox(pool, 'consent').map((x) => ConsentEventSchema.parse(x.payload));
    expect(consents.map((c) => [c.purpose, c.given, c.attributes, c.assistedBy])).toEqual([
      ['analytics', true, ['carer'], staffRef],
      ['segmentation-health', false, null, staffRef],
      ['contact', false, null, staffRef],
    ]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await pool.sync.syncOnce();
    expect(kioskOutbox(pool, 'visit').at(-1)?.status).toBe('accepted');
    expect(kioskOutbox(pool, 'consent').map((x) => x.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);
    await context.close();
  });

  it('an enrolment desk enrols a resident and replaces a lost card; the old card is then refused', async () => {
    const ben = sys.demo.residents[1]!;
    const { page, context } = await openScreen(browser, desk.uiUrl);
    await signIn(desk, page);
    await page.getByRole('button', { name: 'Enrol a new resident' }).click();
    await page.getByLabel('First name (optional)').fill('Cat');
    await page.getByLabel('Age group').selectOption('20-29');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#desk-status[data-status="waiting-card"]').waitFor();
    tap(desk, NEW_CARD);
    await page.locator('#desk-status', { hasText: 'Enrolled: Cat.' }).waitFor();
    const [enrolled] = kioskOutbox(desk, 'enrolment').map((x) =>
      EnrolmentEventSchema.parse(x.payload),
    );
    expect(enrolled).toMatchObject({
      firstName: 'Cat',
      ageBand: '20-29',
      cardHash: cardHashOf(cardKey, NEW_CARD),
      technology: 'simulated',
      staffRef,
    });
    // The same card again: refused with its own reason, in English and in Welsh.
    await page.getByRole('button', { name: 'Enrol a new resident' }).click();
    await page.getByLabel('Age group').selectOption('75+');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#desk-status[data-status="waiting-card"]').waitFor();
    tap(desk, NEW_CARD);
    await page.locator('#desk-status[data-status="refused"]').waitFor();
    expect(await page.locator('#desk-status').innerText()).toBe(
      'That did not work. This card already belongs to someone. Please use a new, blank card.',
    );
    await page.getByRole('button', { name: 'Cymraeg' }).click();
    await page
      .locator('#desk-status', { hasText: 'Mae’r cerdyn hwn yn perthyn i rywun yn barod.' })
      .waitFor();
    await shot(page, 'wired-card-already-issued-cy.png');
    await page.getByRole('button', { name: 'English' }).click();
    expect(kioskOutbox(desk, 'enrolment')).toHaveLength(1);

    await findResident(page, 'Ben');
    await page.getByRole('button', { name: 'Replace a lost card' }).click();
    await page.locator('#desk-status[data-status="waiting-card"]').waitFor();
    tap(desk, REPLACEMENT_CARD);
    await page
      .locator('#desk-status', { hasText: 'New card issued for Ben. The old card is blocked.' })
      .waitFor();
    await shot(page, 'wired-card-replaced.png');
    const [replaced] = kioskOutbox(desk, 'card-replacement').map((x) =>
      CardReplacementEventSchema.parse(x.payload),
    );
    expect(replaced).toMatchObject({
      residentRef: ben.residentRef,
      cardHash: cardHashOf(cardKey, REPLACEMENT_CARD),
      replacedCardHashes: [cardHashOf(cardKey, ben.uid)],
    });
    await page.getByRole('button', { name: 'Sign out' }).click();

    // At once, offline of the backend: the old card is blocked, the new ones work.
    tap(desk, ben.uid);
    await page.locator('#result[data-code="card-blocked"]').waitFor();
    tap(desk, REPLACEMENT_CARD);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    tap(desk, NEW_CARD);
    await page.locator('#result-title', { hasText: 'Cat' }).waitFor();

    // The backend takes the desk's events: the old card is blocked there too.
    await desk.sync.syncOnce();
    for (const type of ['enrolment', 'card-replacement', 'visit']) {
      expect(
        kioskOutbox(desk, type).every((x) => x.status === 'accepted'),
        type,
      ).toBe(true);
    }
    await pool.sync.syncOnce();
    expect(pool.store.getCard(cardHashOf(cardKey, ben.uid))?.status).toBe('blocked');
    const { page: poolPage, context: poolContext } = await openScreen(browser, pool.uiUrl);
    tap(pool, ben.uid);
    await poolPage.locator('#result[data-code="card-blocked"]').waitFor();
    await poolContext.close();
    await context.close();
  });

  it('offline, looking a resident up searches what the kiosk holds, and says so', async () => {
    await sys.stopBackend();
    await pool.sync.syncOnce().catch(() => undefined);
    expect(pool.core.state().sync.online).toBe(false);
    const { page, context } = await openScreen(browser, pool.uiUrl);
    await signIn(pool, page);
    await findResident(page, 'Asha');
    expect(await page.locator('#lookup-results').innerText()).toContain('Asha, age 13-19');
    expect(await page.locator('#lookup-offline').innerText()).toBe(
      'This kiosk is offline: it searched only the residents it already knows about.',
    );
    await shot(page, 'wired-lookup-offline.png');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await context.close();
  });
});
