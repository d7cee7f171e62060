import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '@clubcard/shared/errors';
import {
  CY,
  EN,
  SAME_IN_BOTH,
  formatAmount,
  placeholders,
  priceText,
  refusalKey,
  refusalText,
  t,
  walletName,
  type MessageKey,
} from './i18n.js';

const KEYS = Object.keys(EN) as MessageKey[];

describe('the string catalogue', () => {
  it('has a Welsh string for every English one, and no extra', () => {
    expect(Object.keys(CY).sort()).toEqual([...KEYS].sort());
  });

  it('has every Welsh string differ from its English source, except the listed names', () => {
    const same = KEYS.filter((k) => EN[k] === CY[k]);
    expect(same.sort()).toEqual([...SAME_IN_BOTH].sort());
  });

  it('keeps the allow-list of identical strings short', () => {
    expect(SAME_IN_BOTH.size).toBeLessThanOrEqual(3);
  });

  it('uses the same placeholders in both languages', () => {
    for (const k of KEYS) expect(placeholders(CY[k]), k).toEqual(placeholders(EN[k]));
  });

  it('has no empty or untrimmed strings', () => {
    for (const k of KEYS) {
      for (const s of [EN[k], CY[k]]) {
        expect(s.length, k).toBeGreaterThan(0);
        expect(s.trim(), k).toBe(s);
      }
    }
  });
});

describe('translation', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    expect(t('en', 'result.welcome-name', { name: 'Asha' })).toBe('Welcome, Asha');
    expect(t('cy', 'result.welcome-name', { name: 'Asha' })).toBe('Croeso, Asha');
    expect(t('en', 'result.welcome-name')).toBe('Welcome, {name}');
  });

  it('formats amounts per wallet in each language', () => {
    expect(formatAmount('en', 'leisure-credit', 150)).toBe('£1.50');
    expect(formatAmount('cy', 'leisure-credit', -5)).toBe('−£0.05');
    expect(formatAmount('en', 'time-credit', 90)).toBe('1 h 30 min');
    expect(formatAmount('cy', 'time-credit', 90)).toBe('1 awr 30 munud');
    expect(formatAmount('cy', 'time-credit', 120)).toBe('2 awr');
    expect(formatAmount('en', 'time-credit', 45)).toBe('45 min');
    expect(formatAmount('en', 'living-credit', 10)).toBe('10');
  });

  it('says prices with their unit, counting vouchers', () => {
    expect(priceText('en', 'voucher:swim', 1)).toBe('1 voucher');
    expect(priceText('en', 'voucher:swim', 3)).toBe('3 vouchers');
    expect(priceText('cy', 'voucher:swim', 3)).toBe('3 taleb');
    expect(priceText('en', 'living-credit', 10)).toBe('10 living credits');
    expect(priceText('cy', 'living-credit', 10)).toBe('credydau byw: 10');
    expect(priceText('en', 'leisure-credit', 250)).toBe('£2.50');
  });

  it('names wallets, vouchers included', () => {
    expect(walletName('en', 'living-credit')).toBe('living credits');
    expect(walletName('cy', 'living-credit')).toBe('credydau byw');
    expect(walletName('cy', 'voucher:summer-swim')).toBe('talebau: summer swim');
  });

  it('has a friendly message, in both languages, for every error code', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      for (const lang of ['en', 'cy'] as const) {
        const { what, help } = refusalText(lang, code);
        expect(what).not.toMatch(/[{}]/);
        expect(help.length).toBeGreaterThan(10);
      }
    }
  });

  it.each([
    ['card-not-registered', 'refusal.card-not-registered'],
    ['card-blocked', 'refusal.card-blocked'],
    ['card-not-genuine', 'refusal.card-not-genuine'],
    ['card-replayed', 'refusal.card-not-genuine'],
    ['nothing-to-spend', 'refusal.nothing-to-spend'],
    ['offline-allowance-exceeded', 'refusal.offline-allowance-exceeded'],
    ['reader-error', 'refusal.reader-error'],
    ['storage-full', 'refusal.storage'],
    ['internal', 'refusal.other'],
  ] as const)('answers %s with %s', (code, key) => {
    expect(refusalKey(code)).toBe(key);
  });
});
