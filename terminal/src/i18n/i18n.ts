import type { ErrorCode } from '@clubcard/shared/errors';
import type { Language, LocalisedText } from '../bridge/kiosk-bridge.js';
import { CY, EN, type MessageKey } from './catalogue.js';

export { CY, EN, SAME_IN_BOTH, type MessageKey } from './catalogue.js';
export type { Language } from '../bridge/kiosk-bridge.js';

export const LANGUAGES: readonly Language[] = ['en', 'cy'];
const CATALOGUES: Record<Language, Record<MessageKey, string>> = { en: EN, cy: CY };
/** BCP 47 tags for the page, speech and number formatting. */
export const LANGUAGE_TAGS: Record<Language, string> = { en: 'en-GB', cy: 'cy-GB' };

export type Params = Record<string, string | number>;

/** The placeholders a string uses, e.g. ['name'] for 'Welcome, {name}'. */
export function placeholders(s: string): string[] {
  return [...s.matchAll(/\{([a-z]+)\}/g)].map((m) => m[1] ?? '').sort();
}

/** The string for a key in a language, with its placeholders filled in. */
export function t(lang: Language, key: MessageKey, params: Params = {}): string {
  return CATALOGUES[lang][key].replace(/\{([a-z]+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Council-supplied text in the resident's language, English where no Welsh was given. */
export function localised(lang: Language, text: LocalisedText): string {
  return lang === 'cy' ? (text.cy ?? text.en) : text.en;
}

const KNOWN_WALLETS = ['leisure-credit', 'learning-points', 'living-credit', 'time-credit'];

function voucherName(wallet: string): string {
  return wallet.slice('voucher:'.length).replace(/-/g, ' ');
}

/** A wallet's name inside a sentence ("You earned 10 living credits."). */
export function walletName(lang: Language, wallet: string): string {
  if (wallet.startsWith('voucher:'))
    return t(lang, 'wallet.voucher', { name: voucherName(wallet) });
  if (KNOWN_WALLETS.includes(wallet)) return t(lang, `wallet.${wallet}` as MessageKey);
  return wallet;
}

/** A wallet's name as a heading or list label ("Living credits"). */
export function walletTitle(lang: Language, wallet: string): string {
  if (wallet.startsWith('voucher:'))
    return t(lang, 'wallet.title.voucher', { name: voucherName(wallet) });
  if (KNOWN_WALLETS.includes(wallet)) return t(lang, `wallet.title.${wallet}` as MessageKey);
  return wallet;
}

/** An integer amount in the wallet's unit, as a resident reads it: "£1.50", "1 h 30 min", "40". */
export function formatAmount(lang: Language, wallet: string, amount: number): string {
  const sign = amount < 0 ? '−' : '';
  const abs = Math.abs(amount);
  if (wallet === 'leisure-credit') {
    return `${sign}£${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  }
  if (wallet === 'time-credit') {
    const hours = Math.floor(abs / 60);
    const minutes = abs % 60;
    if (hours === 0) return sign + t(lang, 'unit.minutes', { minutes });
    if (minutes === 0) return sign + t(lang, 'unit.hours', { hours });
    return sign + t(lang, 'unit.hours-minutes', { hours, minutes });
  }
  return `${sign}${abs}`;
}

/**
 * A price as a resident reads it: money and time as amounts, vouchers counted, points
 * and credits with their wallet's name ("10 living credits").
 */
export function priceText(lang: Language, wallet: string, amount: number): string {
  if (wallet === 'leisure-credit' || wallet === 'time-credit') {
    return formatAmount(lang, wallet, amount);
  }
  if (wallet.startsWith('voucher:')) {
    return amount === 1
      ? t(lang, 'unit.voucher-one')
      : t(lang, 'unit.voucher-many', { count: amount });
  }
  return t(lang, 'unit.wallet', { amount, wallet: walletName(lang, wallet) });
}

type RefusalKey = Extract<
  MessageKey,
  | 'refusal.card-not-registered'
  | 'refusal.card-blocked'
  | 'refusal.card-not-genuine'
  | 'refusal.uid-only-not-allowed'
  | 'refusal.nothing-to-spend'
  | 'refusal.offline-allowance-exceeded'
  | 'refusal.reader-error'
  | 'refusal.storage'
  | 'refusal.card-already-issued'
  | 'refusal.card-personalisation-interrupted'
  | 'refusal.card-personalisation-failed'
  | 'refusal.other'
>;

/**
 * Which friendly message answers which refusal code. The enrolment desk's own codes
 * (card-already-issued, card-personalisation-*) are shown to staff with what to do.
 */
export function refusalKey(code: ErrorCode): RefusalKey {
  switch (code) {
    case 'card-not-registered':
    case 'card-blocked':
    case 'card-not-genuine':
    case 'uid-only-not-allowed':
    case 'nothing-to-spend':
    case 'offline-allowance-exceeded':
    case 'reader-error':
    case 'card-already-issued':
    case 'card-personalisation-interrupted':
    case 'card-personalisation-failed':
      return `refusal.${code}`;
    // A replayed SUN message looks to the resident like a card that did not check out.
    case 'card-replayed':
      return 'refusal.card-not-genuine';
    case 'reader-disconnected':
      return 'refusal.reader-error';
    case 'storage-full':
    case 'storage-error':
      return 'refusal.storage';
    default:
      return 'refusal.other';
  }
}

/** The refusal as two sentences: what happened, and what to do. */
export function refusalText(lang: Language, code: ErrorCode): { what: string; help: string } {
  const key = refusalKey(code);
  return { what: t(lang, key), help: t(lang, `${key}.help` as MessageKey) };
}
