import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import type { Browser, Page } from 'playwright-core';
import { DEMO_BLOCKED_UID, DEMO_UNKNOWN_UID } from '@clubcard/backend/demo/demo-data';
import { t } from '@clubcard/terminal/i18n/i18n';
import { artifactPath, launchChromium } from '../support/browser.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import {
  TOKEN,
  axeViolations,
  openScreen,
  smallTargets,
  startScreenKiosk,
  type ScreenKiosk,
} from './screen-harness.js';

/**
 * The resident's screen in headless Chromium against a real kiosk core and backend:
 * idle, a recorded tap (provisional, then confirmed), every refusal, Welsh and English,
 * large text, keyboard only, no timing trap, offline — each screen checked by axe-core
 * (WCAG 2.2 A/AA) and saved as a screenshot.
 */
let sys: TestSystem;
let browser: Browser;
let k: ScreenKiosk;

beforeAll(async () => {
  sys = await createTestSystem();
  await sys.startBackend();
  browser = await launchChromium();
  k = await startScreenKiosk(sys, 0);
  await k.kiosk.sync.syncOnce();
});

afterAll(async () => {
  await k?.close();
  await browser?.close();
  await sys?.cleanup();
});

async function expectAccessible(page: Page, shot: string): Promise<void> {
  await page.screenshot({ path: artifactPath(shot), fullPage: true });
  const violations = await axeViolations(page);
  expect(violations, JSON.stringify(violations, null, 1)).toEqual([]);
  expect(await smallTargets(page)).toEqual([]);
}

const text = (page: Page, sel: string): Promise<string> =>
  page
    .locator(sel)
    .innerText()
    .then((s) => s.trim());

describe('resident screen', () => {
  it('invites a tap on the idle screen, in English and in Welsh', async () => {
    const { page, context } = await openScreen(browser, k.url);
    expect(await text(page, '#idle-title')).toBe('Tap your card');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en-GB');
    await expectAccessible(page, 'resident-idle-en.png');

    await page.getByRole('button', { name: 'Switch to Welsh' }).click();
    expect(await text(page, '#idle-title')).toBe(t('cy', 'idle.title'));
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('cy-GB');
    await expectAccessible(page, 'resident-idle-cy.png');
    await context.close();
  });

  it('shows who, what and where, earnings and balances within a blink; confirmed after sync', async () => {
    const { page, context, spoken } = await openScreen(browser, k.url);
    const asha = sys.demo.residents[0]!;
    const outcome = await k.tap(asha.uid);
    // The core has answered (committed) by now: from here to the screen is the UI's share.
    const answeredAt = performance.timeOrigin + performance.now();
    expect(outcome.kind).toBe('recorded');
    await page.locator('#result[data-kind="recorded"]').waitFor();
    await page.waitForFunction(() => document.body.dataset.shownAt !== undefined);
    const shownAt = Number(await page.evaluate(() => document.body.dataset.shownAt));
    expect(shownAt - answeredAt).toBeLessThan(500);
    expect(await text(page, '#result-title')).toBe('Welcome, Asha');
    expect(await text(page, '#result-detail')).toBe(
      'We have recorded your visit: Swimming at Riverside Leisure Centre.',
    );
    expect(await text(page, '#earned li')).toBe('You earned 10 living credits.');
    const bal = page.locator('#balances li[data-wallet="living-credit"]');
    expect(await bal.getAttribute('data-amount')).toBe('10');
    expect(await bal.getAttribute('data-provisional')).toBe('10');
    expect(await bal.innerText()).toContain('(being confirmed)');
    // The result is announced to assistive technology and read aloud when asked for.
    expect(await text(page, '#announce')).toContain('Welcome, Asha');
    expect(await spoken()).toEqual([]);
    // Nothing more personal than a first name is on screen.
    expect(await page.locator('body').innerText()).not.toContain(asha.residentRef);
    await expectAccessible(page, 'resident-recorded-provisional.png');

    await k.kiosk.sync.syncOnce();
    await page.locator('#balances li[data-wallet="living-credit"][data-provisional="0"]').waitFor();
    expect(await bal.getAttribute('data-amount')).toBe('10');
    await expectAccessible(page, 'resident-recorded-confirmed.png');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.locator('#idle').waitFor();
    await context.close();
  });

  it.each([
    ['card-not-registered', () => k.tap(DEMO_UNKNOWN_UID)],
    ['card-blocked', () => k.tap(DEMO_BLOCKED_UID)],
    [
      'card-not-genuine',
      () =>
        k.reader.emit('tap', {
          readerName: 'Simulated reader',
          technology: 'ntag424',
          identifier: '04A1B2C3D4E501',
          proof: { kind: 'sun', uid: '04A1B2C3D4E501', counter: 7, cmac: '0011223344556677' },
          detectedAt: performance.now(),
          apduMs: 0,
        }),
    ],
    ['reader-error', () => k.reader.fail('reader-error', 'card left the field')],
  ] as const)('explains the refusal %s kindly, in both languages', async (code, act) => {
    const { page, context } = await openScreen(browser, k.url);
    await act();
    await page.locator(`#result[data-code="${code}"]`).waitFor();
    expect(await text(page, '#result-title')).toBe('Sorry');
    expect(await text(page, '#result-detail')).toBe(t('en', `refusal.${code}`));
    expect(await text(page, '#result-help')).toBe(t('en', `refusal.${code}.help`));
    await expectAccessible(page, `refusal-${code}-en.png`);
    await page.getByRole('button', { name: 'Switch to Welsh' }).click();
    expect(await text(page, '#result-title')).toBe(t('cy', 'refusal.title'));
    expect(await text(page, '#result-detail')).toBe(t('cy', `refusal.${code}`));
    await expectAccessible(page, `refusal-${code}-cy.png`);
    await context.close();
  });

  it('remembers a resident’s language on this kiosk, and reads the result aloud on request', async () => {
    const ben = sys.demo.residents[1]!;
    const first = await openScreen(browser, k.url);
    await k.tap(ben.uid);
    await first.page.locator('#result[data-kind="recorded"]').waitFor();
    await first.page.getByRole('button', { name: 'Switch to Welsh' }).click();
    expect(await text(first.page, '#result-title')).toBe('Croeso, Ben');
    await expect.poll(() => k.staffStore.languageOf(ben.residentRef)).toBe('cy');
    await first.page.getByRole('button', { name: 'Gorffen' }).click();
    // Back at the start the kiosk is in its own language again for the next person.
    expect(await text(first.page, '#idle-title')).toBe('Tap your card');
    await first.context.close();

    const second = await openScreen(browser, k.url);
    await second.page.getByRole('button', { name: 'Read aloud' }).click();
    await k.tap(ben.uid);
    await second.page.locator('#result[data-kind="recorded"]').waitFor();
    expect(await text(second.page, '#result-title')).toBe('Croeso, Ben');
    expect(await text(second.page, '#result-detail')).toContain('Rydyn ni wedi cofnodi');
    const said = await second.spoken();
    expect(said.at(-1)).toContain('Croeso, Ben');
    await expectAccessible(second.page, 'resident-recorded-cy.png');
    await second.context.close();
  });

  it('plays a rising tone for a recorded visit, a low one for a refusal, none when sounds are off', async () => {
    const { page, context, tones } = await openScreen(browser, k.url);
    await k.tap(sys.demo.residents[2]!.uid);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    await expect.poll(tones).toEqual([660, 880]);
    await page.getByRole('button', { name: 'Done' }).click();
    await k.tap(DEMO_UNKNOWN_UID);
    await page.locator('#result[data-code="card-not-registered"]').waitFor();
    await expect.poll(tones).toEqual([660, 880, 294]);
    await page.getByRole('button', { name: 'Sounds' }).click();
    expect(await page.getByRole('button', { name: 'Sounds' }).getAttribute('aria-pressed')).toBe(
      'false',
    );
    await k.tap(sys.demo.residents[2]!.uid);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    await page.waitForTimeout(200);
    expect(await tones()).toHaveLength(3);
    await context.close();
  });

  it('offers larger text, and keeps every target at least 44 px', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await page.getByRole('button', { name: 'Larger text' }).click();
    expect(
      await page.getByRole('button', { name: 'Larger text' }).getAttribute('aria-pressed'),
    ).toBe('true');
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize)).toBe(
      '28px',
    );
    await k.tap(sys.demo.residents[2]!.uid);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    await expectAccessible(page, 'resident-recorded-large-text.png');
    await context.close();
  });

  it('works by keyboard alone, with a visible focus ring', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await k.tap(sys.demo.residents[3]!.uid);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    // Focus lands on Done; Shift+Tab reaches the settings, each with a visible ring.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('done');
    await page.keyboard.press('Shift+Tab');
    const ring = await page.evaluate(() => {
      const e = document.activeElement as HTMLElement;
      const s = getComputedStyle(e);
      return { id: e.id, style: s.outlineStyle, width: s.outlineWidth };
    });
    expect(ring.style).toBe('solid');
    expect(parseFloat(ring.width)).toBeGreaterThanOrEqual(3);
    await page.locator('#done').focus();
    await page.keyboard.press('Enter');
    await page.locator('#idle').waitFor();
    expect(await page.locator('#result').isHidden()).toBe(true);
    await context.close();
  });

  it('returns to the start only after a warning that offers more time', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await page.clock.install();
    await k.tap(sys.demo.residents[4]!.uid);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    await page.clock.fastForward(21_000);
    await page.locator('#timeout').waitFor();
    expect(await text(page, '#timeout-text')).toBe(
      'This screen will go back to the start in 10 seconds.',
    );
    await expectAccessible(page, 'resident-timeout-warning.png');
    await page.getByRole('button', { name: 'I need more time' }).click();
    await page.clock.fastForward(120_000);
    expect(await page.locator('#result').isVisible()).toBe(true);
    expect(await text(page, '#staying')).toBe('This screen will stay until you press Done.');
    await page.getByRole('button', { name: 'Done' }).click();

    // Without an answer to the warning, the screen goes back to the start.
    await k.tap(sys.demo.residents[4]!.uid);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    await page.clock.fastForward(31_000);
    await page.locator('#idle').waitFor();
    await context.close();
  });

  it('keeps working offline: the visit is saved here and the screen says so', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await sys.stopBackend();
    await k.kiosk.sync.syncOnce().catch(() => undefined);
    await page.locator('#sync[data-online="false"]').waitFor();
    await k.tap(sys.demo.residents[5]!.uid);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    expect(await text(page, '#result-title')).toBe('Welcome, Femi');
    expect(await text(page, '#sync')).toMatch(/^Offline\. Visits saved here: \d+$/);
    await expectAccessible(page, 'resident-recorded-offline.png');
    await sys.startBackend();
    await context.close();
  });

  it('offers demo taps only with the token', async () => {
    const res = await fetch(`${k.url}/api/demo/tap`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer wrong-token-000000000',
      },
      body: JSON.stringify({ uid: '04A1B2C3D4E501' }),
    });
    expect(res.status).toBe(401);
    const staff = await fetch(`${k.url}/api/demo/staff-tap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uid: '04CAFE00000001' }),
    });
    expect(staff.status).toBe(401);
    const ok = await fetch(`${k.url}/api/demo`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
  });

  it('refuses bridge calls that are not JSON from the kiosk page', async () => {
    const forms = await fetch(`${k.url}/api/language`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ language: 'cy' }),
    });
    expect(forms.status).toBe(403);
    const foreign = await fetch(`${k.url}/api/language`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ language: 'cy' }),
    });
    expect(foreign.status).toBe(403);
    const bad = await fetch(`${k.url}/api/language`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ language: 'fr' }),
    });
    expect(bad.status).toBe(400);
  });
});
