import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { artifactPath, launchChromium } from '../support/browser.js';
import { createTestSystem, type TestSystem } from '../support/system.js';

const TOKEN = 'browser-test-token-0123';
let sys: TestSystem;
let browser: Browser;

beforeAll(async () => {
  sys = await createTestSystem();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await sys?.cleanup();
});

describe('kiosk screen in a browser', () => {
  it('shows a simulated tap as recorded with a provisional balance, then the confirmed credit after sync', async () => {
    await sys.startBackend();
    const asha = sys.demo.residents[0]!;
    const kiosk = await sys.startKiosk(0, {
      demo: { tapToken: TOKEN, cards: [{ label: 'Asha', uid: asha.uid }] },
    });
    await kiosk.sync.syncOnce();
    const page = await browser.newPage();
    await page.goto(`${kiosk.uiUrl}/#demo=${TOKEN}`);
    await expect(page.locator('#idle-title').textContent()).resolves.toBe('Tap your card');
    await page.getByRole('button', { name: 'Tap: Asha' }).click();

    await page.locator('#result[data-kind="recorded"]').waitFor();
    expect(await page.locator('#result-title').textContent()).toBe('Welcome, Asha');
    expect(await page.locator('#result-detail').textContent()).toBe(
      'Swimming at Riverside Leisure Centre recorded.',
    );
    const bal = page.locator('#balances li[data-wallet="living-credit"]');
    expect(await bal.getAttribute('data-amount')).toBe('10');
    expect(await bal.getAttribute('data-provisional')).toBe('10');
    await page.screenshot({ path: artifactPath('kiosk-tap-provisional.png') });

    await kiosk.sync.syncOnce();
    await page.locator('#balances li[data-wallet="living-credit"][data-provisional="0"]').waitFor();
    expect(await bal.getAttribute('data-amount')).toBe('10');
    await page.screenshot({ path: artifactPath('kiosk-tap-confirmed.png') });
    await page.close();
  });

  it('refuses the demo tap endpoint without the token', async () => {
    if (!sys.backend) await sys.startBackend();
    const kiosk = await sys.startKiosk(1, { demo: { tapToken: TOKEN, cards: [] } });
    const res = await fetch(`${kiosk.uiUrl}/api/demo/tap`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer wrong-token-000000000',
      },
      body: JSON.stringify({ uid: '04A1B2C3D4E501' }),
    });
    expect(res.status).toBe(401);
    expect(kiosk.store.stats().lastSeq).toBe(0);
  });
});
