import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { t } from '@clubcard/terminal/i18n/i18n';
import { artifactPath, launchChromium } from '../support/browser.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import {
  axeViolations,
  openScreen,
  smallTargets,
  startScreenKiosk,
  type ScreenKiosk,
} from './screen-harness.js';

/**
 * GP drop-in mode: a kiosk whose service is a GP drop-in checks residents in and gives
 * each a queue number. Any resident may check in at any drop-in; nothing about their
 * health is recorded, only the visit itself.
 */
let sys: TestSystem;
let browser: Browser;
let k: ScreenKiosk;

beforeAll(async () => {
  sys = await createTestSystem();
  // A drop-in kiosk at a practice none of the demo residents is registered with.
  const gp = sys.admin((a) =>
    a.addKiosk({ id: 'k-gp-1', venueId: 'v-high-street-gp', serviceId: 's-gp-drop-in' }),
  );
  sys.demo.kiosks.push({ ...gp, venueId: 'v-high-street-gp', serviceId: 's-gp-drop-in' });
  await sys.startBackend();
  browser = await launchChromium();
  k = await startScreenKiosk(sys, sys.demo.kiosks.length - 1);
  await k.kiosk.sync.syncOnce();
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

describe('GP drop-in check-in', () => {
  it('invites a check-in and explains that any drop-in will do', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await page.locator('#idle-title', { hasText: 'GP drop-in check-in' }).waitFor();
    expect(await page.locator('#idle-hint').innerText()).toContain(
      'You can check in at any GP drop-in, not only your own practice.',
    );
    await expectAccessible(page, 'gp-idle-en.png');
    await page.getByRole('button', { name: 'Switch to Welsh' }).click();
    expect(await page.locator('#idle-title').innerText()).toBe(t('cy', 'idle.gp-title'));
    await expectAccessible(page, 'gp-idle-cy.png');
    await context.close();
  });

  it('gives queue numbers in order, the same number again to someone already checked in', async () => {
    const { page, context } = await openScreen(browser, k.url);
    const [asha, ben] = sys.demo.residents;
    await k.tap(asha!.uid);
    await page.locator('#queue-number', { hasText: /^1$/ }).waitFor();
    expect(await page.locator('#result-title').innerText()).toBe('You are checked in, Asha');
    expect(await page.locator('#queue-privacy').innerText()).toBe(t('en', 'gp.privacy'));
    // A check-in shows no offers and nothing to spend.
    expect(await page.locator('#offer').isHidden()).toBe(true);
    expect(await page.locator('#spend').isHidden()).toBe(true);
    await expectAccessible(page, 'gp-checked-in.png');

    await k.tap(ben!.uid);
    await page.locator('#queue-number', { hasText: /^2$/ }).waitFor();
    await k.tap(asha!.uid);
    await page.locator('#queue-number', { hasText: /^1$/ }).waitFor();
    await page.getByRole('button', { name: 'Switch to Welsh' }).click();
    expect(await page.locator('#queue-label').innerText()).toBe('Eich rhif yw');
    await expectAccessible(page, 'gp-checked-in-cy.png');
    await context.close();
  });

  it('records the visit and nothing about health', () => {
    const rows = k.kiosk.store.db
      .prepare('SELECT type, payload FROM outbox ORDER BY seq')
      .all() as { type: string; payload: string }[];
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) {
      expect(r.type).toBe('visit');
      expect(Object.keys(JSON.parse(r.payload) as object).sort()).toEqual(
        [
          'assisted',
          'auth',
          'cardHash',
          'id',
          'kioskId',
          'occurredAt',
          'residentRef',
          'seq',
          'serviceId',
          'type',
          'venueId',
        ].sort(),
      );
    }
    // The queue keeps a number per resident for today only.
    const cols = (
      k.kiosk.store.db.prepare('PRAGMA table_info(gp_queue)').all() as { name: string }[]
    ).map((c) => c.name);
    expect(cols.sort()).toEqual(['day', 'number', 'resident_ref']);
  });
});
