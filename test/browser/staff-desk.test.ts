import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { StaffDeskPort } from '@clubcard/terminal/server/kiosk-services';
import { artifactPath, launchChromium } from '../support/browser.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import {
  axeViolations,
  openScreen,
  smallTargets,
  staffTap,
  startScreenKiosk,
  type ScreenKiosk,
} from './screen-harness.js';
import { STAFF_PIN, STAFF_UID, seedStaff } from './staff-support.js';

/**
 * The staff desk at an enrolment desk kiosk: find a resident, record a visit by hand
 * (card forgotten), record consent and volunteered attributes, replace a lost card and
 * enrol a new resident (the new card is tapped on the reader). The core and backend
 * calls behind it are the lead's integration; a stand-in StaffDeskPort answers as they
 * will and records what the screen asked for.
 */
const NEW_CARD = '04BEEF00000001';
const calls: Record<string, unknown>[] = [];
let sys: TestSystem;
let browser: Browser;
let k: ScreenKiosk;
let ben: { residentRef: string; firstName: string };

const port: StaffDeskPort = {
  lookup: async (q) =>
    q.toLowerCase() === 'ben'
      ? [{ residentRef: ben.residentRef, firstName: 'Ben', ageBand: '30-44' }]
      : [],
  recordVisitByHand: async (r) => (calls.push({ visit: r }), { ok: true, firstName: 'Ben' }),
  recordConsent: async (r) => (calls.push({ consent: r }), { ok: true, firstName: 'Ben' }),
  replaceCard: async (r) => (calls.push({ replace: r }), { ok: true, firstName: 'Ben' }),
  enrol: async (r) => (calls.push({ enrol: r }), { ok: true, firstName: r.firstName }),
};

beforeAll(async () => {
  sys = await createTestSystem();
  await sys.startBackend();
  browser = await launchChromium();
  k = await startScreenKiosk(sys, 0, { desk: port, enrolmentDesk: true });
  await k.kiosk.sync.syncOnce();
  seedStaff(k);
  ben = sys.demo.residents[1]!;
});

afterAll(async () => {
  await k?.close();
  await browser?.close();
  await sys?.cleanup();
});

async function expectAccessible(page: Page, shot: string): Promise<void> {
  await page.screenshot({ path: artifactPath(shot), fullPage: true });
  expect(await axeViolations(page)).toEqual([]);
  expect(await smallTargets(page)).toEqual([]);
}

async function signIn(page: Page): Promise<void> {
  await staffTap(k.url, STAFF_UID);
  await page.locator('#staff-panel[data-status="awaiting-pin"]').waitFor();
  await page.locator('#pin').fill(STAFF_PIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#staff-panel[data-status="signed-in"]').waitFor();
}

const desk = (page: Page): Promise<string> => page.locator('#desk-status').innerText();

describe('staff desk', () => {
  it('finds a resident and records a visit by hand, marked as recorded by staff', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await signIn(page);
    await page.getByLabel('First name or reference').fill('Ben');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator(`[data-resident="${ben.residentRef}"]`).waitFor();
    expect(await page.locator('#lookup-results').innerText()).toContain('Ben, age 30-44');
    await expectAccessible(page, 'staff-lookup.png');
    await page.getByRole('button', { name: 'Record a visit (card forgotten)' }).click();
    await page.locator('#desk-status[data-status="done"]').waitFor();
    expect(await desk(page)).toBe('Visit recorded for Ben, marked as recorded by staff.');
    expect(calls.at(-1)).toEqual({ visit: { residentRef: ben.residentRef, staffRef: 'st-alex' } });
    await context.close();
  });

  it('records consent and volunteered attributes with the resident', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await page.getByLabel('First name or reference').fill('Ben');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: 'Consent and details' }).click();
    await page.getByLabel(/May the council use their visits/).check();
    await page.getByLabel(/count their GP drop-in visits/).check();
    await page.getByLabel('Carer').check();
    await expectAccessible(page, 'staff-consent.png');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#desk-status', { hasText: 'Consent saved for Ben.' }).waitFor();
    expect(calls.at(-1)).toEqual({
      consent: {
        residentRef: ben.residentRef,
        analytics: true,
        healthVisits: true,
        contact: false,
        attributes: ['carer'],
        staffRef: 'st-alex',
      },
    });
    await context.close();
  });

  it('replaces a lost card: the new card is tapped on the reader', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await page.getByLabel('First name or reference').fill('Ben');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: 'Replace a lost card' }).click();
    await page.locator('#desk-status[data-status="waiting-card"]').waitFor();
    expect(await desk(page)).toBe('Tap the new card on the reader.');
    const before = k.kiosk.store.stats().lastSeq;
    expect(await staffTap(k.url, NEW_CARD)).toBe(true);
    await page.locator('#desk-status[data-status="done"]').waitFor();
    expect(await desk(page)).toBe('New card issued for Ben. The old card is blocked.');
    const last = calls.at(-1) as { replace: { residentRef: string; cardHash: string } };
    expect(last.replace.residentRef).toBe(ben.residentRef);
    expect(last.replace.cardHash).toMatch(/^[0-9a-f]{32,64}$/);
    expect(last.replace.cardHash).not.toContain(NEW_CARD);
    // The new card's tap was the desk's, not a visit.
    expect(k.kiosk.store.stats().lastSeq).toBe(before);
    await context.close();
  });

  it('enrols a new resident at the enrolment desk, in Welsh too', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await page.getByRole('button', { name: 'Switch to Welsh' }).click();
    await page.getByRole('button', { name: 'Cofrestru preswylydd newydd' }).click();
    await page.getByLabel('Enw cyntaf (dewisol)').fill('Ffion');
    await page.getByLabel('Grŵp oedran').selectOption('20-29');
    await expectAccessible(page, 'staff-enrol-cy.png');
    await page.getByRole('button', { name: 'Parhau' }).click();
    await page.locator('#desk-status[data-status="waiting-card"]').waitFor();
    await staffTap(k.url, '04BEEF00000002');
    await page.locator('#desk-status[data-status="done"]').waitFor();
    expect(await desk(page)).toBe('Wedi cofrestru: Ffion. Mae’r cerdyn yn barod i’w ddefnyddio.');
    expect(calls.at(-1)).toMatchObject({ enrol: { firstName: 'Ffion', ageBand: '20-29' } });
    await page.getByRole('button', { name: 'Allgofnodi' }).click();
    await context.close();
  });
});
