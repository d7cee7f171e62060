import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { DisplayBalanceMsg, SpendOption } from '@clubcard/terminal/bridge/kiosk-bridge';
import type { RedemptionPort } from '@clubcard/terminal/server/kiosk-services';
import { t } from '@clubcard/terminal/i18n/i18n';
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
 * Vouchers, a targeted offer and the redemption flow (choose, confirm, staff approval
 * where needed, refusals) on the resident's screen. The rules-engine redemption step is
 * the lead's integration in terminal/src/core; here a stand-in RedemptionPort answers
 * as it will, so the screen is tested against the bridge contract.
 */
const OPTIONS: SpendOption[] = [
  {
    id: 'summer-swim/free-swim',
    wallet: 'voucher:summer-swim',
    label: { en: 'A free swim', cy: 'Nofio am ddim' },
    price: 1,
    needsApproval: false,
    unavailable: null,
  },
  {
    id: 'living-credit/cafe-drink',
    wallet: 'living-credit',
    label: { en: 'A hot drink at the café', cy: 'Diod boeth yn y caffi' },
    price: 10,
    needsApproval: true,
    unavailable: null,
  },
  {
    id: 'living-credit/gym-month',
    wallet: 'living-credit',
    label: { en: 'A month at the gym', cy: 'Mis yn y gampfa' },
    price: 500,
    needsApproval: false,
    unavailable: 'nothing-to-spend',
  },
  {
    id: 'living-credit/climbing',
    wallet: 'living-credit',
    label: { en: 'A climbing session', cy: 'Sesiwn ddringo' },
    price: 40,
    needsApproval: false,
    unavailable: 'offline-allowance-exceeded',
  },
];

const redeemed: { optionId: string; approvedBy: string | null }[] = [];
const port: RedemptionPort = {
  optionsFor: () => ({
    options: OPTIONS,
    offer: {
      id: 'half-price-lessons',
      title: {
        en: 'Half-price swimming lessons this month',
        cy: 'Gwersi nofio hanner pris y mis hwn',
      },
      detail: { en: 'Ask at reception.', cy: 'Gofynnwch yn y dderbynfa.' },
    },
  }),
  redeem: (req) => {
    redeemed.push({ optionId: req.optionId, approvedBy: req.approvedBy });
    const balances: DisplayBalanceMsg[] =
      req.optionId === 'summer-swim/free-swim'
        ? [
            { wallet: 'living-credit', amount: 10, provisional: 10 },
            { wallet: 'voucher:summer-swim', amount: 1, provisional: -1 },
          ]
        : [
            { wallet: 'living-credit', amount: 0, provisional: 0 },
            { wallet: 'voucher:summer-swim', amount: 2, provisional: 0 },
          ];
    return { ok: true, balances };
  },
};

let sys: TestSystem;
let browser: Browser;
let k: ScreenKiosk;
let resident: { residentRef: string; uid: string; firstName: string };

beforeAll(async () => {
  sys = await createTestSystem();
  await sys.startBackend();
  browser = await launchChromium();
  k = await startScreenKiosk(sys, 0, { redemption: port });
  await k.kiosk.sync.syncOnce();
  seedStaff(k);
  resident = sys.demo.residents[2]!;
  // Two summer-swim vouchers, as a pulled balance.
  k.kiosk.store.db
    .prepare('INSERT INTO balances (resident_ref, wallet, amount) VALUES (?, ?, ?)')
    .run(resident.residentRef, 'voucher:summer-swim', 2);
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

async function tapAndOpenSpend(page: Page): Promise<void> {
  // The first test chose Welsh for this resident, and the kiosk remembers: start in English.
  k.staffStore.setLanguage(resident.residentRef, 'en', Date.now());
  await k.tap(resident.uid);
  await page.locator('#result[data-kind="recorded"]').waitFor();
  await page.getByRole('button', { name: 'Spend credits' }).click();
  await page.locator('#spend-panel').waitFor();
}

describe('vouchers, offers and redemption', () => {
  it('shows vouchers with what they buy here, and a targeted offer', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await k.tap(resident.uid);
    await page.locator('#result[data-kind="recorded"]').waitFor();
    const voucher = page.locator('#vouchers li[data-wallet="voucher:summer-swim"]');
    expect(await voucher.innerText()).toContain('Vouchers: summer swim: 2');
    expect(await voucher.innerText()).toContain('You can spend here on: A free swim');
    expect(await page.locator('#offer-text').innerText()).toBe(
      'Half-price swimming lessons this month',
    );
    await expectAccessible(page, 'resident-vouchers-offer.png');
    await page.getByRole('button', { name: 'Switch to Welsh' }).click();
    expect(await page.locator('#offer-text').innerText()).toBe(
      'Gwersi nofio hanner pris y mis hwn',
    );
    expect(await voucher.innerText()).toContain('Nofio am ddim');
    await expectAccessible(page, 'resident-vouchers-offer-cy.png');
    await context.close();
  });

  it('spends a voucher: choose, confirm, done — by keyboard', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await tapAndOpenSpend(page);
    await expectAccessible(page, 'redeem-choose.png');
    await page.locator('[data-option="summer-swim/free-swim"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('#confirm-panel').waitFor();
    expect(await page.locator('#confirm-title').innerText()).toBe('Use 1 voucher for A free swim?');
    await expectAccessible(page, 'redeem-confirm.png');
    await page.locator('#confirm-yes').focus();
    await page.keyboard.press('Enter');
    await page.locator('#redeem-panel[data-status="done"]').waitFor();
    expect(await page.locator('#redeem-detail').innerText()).toBe(
      'You used 1 voucher for A free swim.',
    );
    expect(redeemed.at(-1)).toEqual({ optionId: 'summer-swim/free-swim', approvedBy: null });
    await expectAccessible(page, 'redeem-done.png');
    await context.close();
  });

  it.each([
    ['living-credit/gym-month', 'nothing-to-spend'],
    ['living-credit/climbing', 'offline-allowance-exceeded'],
  ] as const)('refuses %s kindly: %s', async (option, code) => {
    const { page, context } = await openScreen(browser, k.url);
    await tapAndOpenSpend(page);
    await page.locator(`[data-option="${option}"]`).click();
    await page.locator(`#redeem-panel[data-code="${code}"]`).waitFor();
    expect(await page.locator('#redeem-title').innerText()).toBe('Sorry');
    expect(await page.locator('#redeem-detail').innerText()).toContain(t('en', `refusal.${code}`));
    await expectAccessible(page, `refusal-${code}-en.png`);
    await page.getByRole('button', { name: 'Switch to Welsh' }).click();
    expect(await page.locator('#redeem-detail').innerText()).toContain(t('cy', `refusal.${code}`));
    await expectAccessible(page, `refusal-${code}-cy.png`);
    await context.close();
  });

  it('waits for a member of staff where the scheme needs approval; staff approve in staff mode', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await tapAndOpenSpend(page);
    await page.locator('[data-option="living-credit/cafe-drink"]').click();
    expect(await page.locator('#confirm-approval').innerText()).toBe(
      'A member of staff will need to approve this.',
    );
    await page.getByRole('button', { name: 'Yes, spend it' }).click();
    await page.locator('#redeem-panel[data-status="awaiting-approval"]').waitFor();
    expect(await page.locator('#redeem-title').innerText()).toBe('Waiting for a member of staff');
    await expectAccessible(page, 'redeem-awaiting-approval.png');

    expect(await staffTap(k.url, STAFF_UID)).toBe(true);
    await page.locator('#staff-panel[data-status="awaiting-pin"]').waitFor();
    await page.locator('#pin').fill(STAFF_PIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#staff-panel[data-status="signed-in"]').waitFor();
    const approve = page.getByRole('button', { name: /^Approve: A hot drink at the café/ });
    await expectAccessible(page, 'staff-approvals.png');
    await approve.click();
    await page.locator('#redeem-panel[data-status="done"]').waitFor();
    expect(redeemed.at(-1)).toEqual({
      optionId: 'living-credit/cafe-drink',
      approvedBy: 'st-alex',
    });
    k.services.staffSignOut();
    await context.close();
  });

  it('lets the resident cancel while waiting for approval', async () => {
    const { page, context } = await openScreen(browser, k.url);
    await tapAndOpenSpend(page);
    await page.locator('[data-option="living-credit/cafe-drink"]').click();
    await page.getByRole('button', { name: 'Yes, spend it' }).click();
    await page.locator('#redeem-panel[data-status="awaiting-approval"]').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#result[data-kind="recorded"]').waitFor();
    expect(k.services.staffView().approvals).toEqual([]);
    await context.close();
  });
});
