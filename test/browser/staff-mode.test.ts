import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
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
 * Staff mode on the kiosk screen: staff card, then PIN (checked offline against the
 * synced hash), lockout after repeated wrong PINs, a warned time-out, sync and rejected
 * events. Short session times so the time-out can be watched.
 */
let sys: TestSystem;
let browser: Browser;
let k: ScreenKiosk;

beforeAll(async () => {
  sys = await createTestSystem();
  await sys.startBackend();
  browser = await launchChromium();
  k = await startScreenKiosk(sys, 0, {
    staffPolicy: {
      maxAttempts: 5,
      lockMs: 60_000,
      pinEntryMs: 60_000,
      idleMs: 12_000,
      warnMs: 4_000,
    },
  });
  await k.kiosk.sync.syncOnce();
  seedStaff(k);
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

async function typePin(page: Page, pin: string): Promise<void> {
  // On the touch keypad, as at a kiosk.
  for (const d of pin) await page.locator(`#keypad [data-key="${d}"]`).click();
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('staff mode', () => {
  it('asks for the staff card, then the PIN; a wrong PIN says how many tries are left', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await page.getByRole('button', { name: 'Staff sign-in' }).click();
    expect(await page.locator('#staff-message').innerText()).toBe(
      'Tap your staff card on the reader.',
    );
    await expectAccessible(page, 'staff-tap-card.png');
    // A resident's card is not a staff card.
    expect(await staffTap(k.url, sys.demo.residents[0]!.uid)).toBe(false);
    expect(await staffTap(k.url, STAFF_UID)).toBe(true);
    await page.locator('#staff-panel[data-status="awaiting-pin"]').waitFor();
    expect(await page.locator('#staff-message').innerText()).toBe('Hello Alex. Enter your PIN.');
    await expectAccessible(page, 'staff-pin.png');
    await typePin(page, '1111');
    await page.locator('#pin-error', { hasText: 'Tries left: 4' }).waitFor();
    await expectAccessible(page, 'staff-pin-wrong.png');

    // The PIN field works from a keyboard too.
    await page.locator('#pin').focus();
    await page.keyboard.type(STAFF_PIN);
    await page.keyboard.press('Enter');
    await page.locator('#staff-panel[data-status="signed-in"]').waitFor();
    expect(await page.locator('#staff-message').innerText()).toBe('Signed in: Alex');
    expect(await page.locator('#pin-form').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Show rejected events' }).click();
    await page.locator('#rejected li', { hasText: 'No events were rejected.' }).waitFor();
    await page.getByRole('button', { name: 'Sync now' }).click();
    await expectAccessible(page, 'staff-signed-in.png');
    await page.getByRole('button', { name: 'Switch to Welsh' }).click();
    expect(await page.locator('#staff-title').innerText()).toBe('Modd staff');
    await expectAccessible(page, 'staff-signed-in-cy.png');
    await page.getByRole('button', { name: 'Allgofnodi' }).click();
    await page.locator('#idle').waitFor();
    expect(k.services.staffView().status).toBe('signed-out');
    await context.close();
  });

  it('warns before a quiet session ends, lets staff stay, then signs out on its own', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await staffTap(k.url, STAFF_UID);
    await page.locator('#staff-panel[data-status="awaiting-pin"]').waitFor();
    await typePin(page, STAFF_PIN);
    await page.locator('#staff-panel[data-status="signed-in"]').waitFor();
    await page.locator('#staff-warning').waitFor({ timeout: 12_000 });
    expect(await page.locator('#staff-warning-text').innerText()).toBe(
      'You will be signed out soon.',
    );
    await expectAccessible(page, 'staff-timeout-warning.png');
    const before = k.services.staffView().until!;
    await page.getByRole('button', { name: 'Stay signed in' }).click();
    await expect.poll(() => k.services.staffView().until ?? 0).toBeGreaterThan(before);
    await page.locator('#staff-warning').waitFor({ state: 'hidden' });
    // Left alone, the session ends and the screen goes back to the start.
    await page.locator('#idle').waitFor({ timeout: 20_000 });
    expect(k.services.staffView().status).toBe('signed-out');
    await context.close();
  });

  it('locks the staff card after five wrong PINs', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await staffTap(k.url, STAFF_UID);
    await page.locator('#staff-panel[data-status="awaiting-pin"]').waitFor();
    for (let i = 0; i < 5; i++) await typePin(page, '9999');
    await page.locator('#staff-panel[data-status="locked"]').waitFor();
    expect(await page.locator('#staff-message').innerText()).toContain('locked');
    await expectAccessible(page, 'staff-locked.png');
    // Tapping again while locked stays locked; the lock is kept in the kiosk's store.
    await staffTap(k.url, STAFF_UID);
    expect(k.services.staffView().status).toBe('locked');
    expect(k.staffStore.lockout('st-alex').lockedUntil).toBeGreaterThan(Date.now());
    await context.close();
  });

  it('keeps staff calls closed to anyone not signed in', async () => {
    const r = await fetch(`${k.url}/api/staff/rejected`);
    expect(r.status).toBe(401);
    const approve = await fetch(`${k.url}/api/staff/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'a-1' }),
    });
    expect(await approve.json()).toEqual({ ok: false, code: 'unauthenticated' });
  });
});
