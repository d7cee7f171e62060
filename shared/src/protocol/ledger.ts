import { z } from 'zod';
import { EventIdSchema, SchemeIdSchema } from '../ids.js';

/**
 * Wallets: one currency per scheme. Amounts are integers in the wallet's unit
 * (pence, points, minutes); never floating point. `neighbourhood-budget` (pence) is held
 * by ward accounts, funded by ward targets.
 */
export const WalletIdSchema = z
  .string()
  .regex(
    /^(leisure-credit|learning-points|living-credit|time-credit|neighbourhood-budget|voucher:[a-z0-9-]{1,60})$/,
    'unknown wallet',
  );
export type WalletId = z.infer<typeof WalletIdSchema>;

/** Ledger accounts: `resident:<ref>`, `scheme:<id>`, `timebank:<id>`, `outlet:<id>`, `ward:<id>`. */
export const AccountIdSchema = z
  .string()
  .regex(/^(resident|scheme|timebank|outlet|ward|council):[a-z0-9-]{1,80}$/, 'bad account id');
export type AccountId = z.infer<typeof AccountIdSchema>;

/**
 * One movement of a double-entry ledger: `amount` leaves `from` and arrives at `to`,
 * so every movement sums to zero by construction. Lines are append-only; a correction
 * is a new movement.
 */
export const LedgerLineSchema = z.object({
  eventId: EventIdSchema,
  /** Position of this line among the lines of its event, from 0. */
  index: z.number().int().min(0).max(1000),
  schemeId: SchemeIdSchema,
  schemeVersion: z.number().int().min(1),
  ruleId: z.string().min(1).max(80),
  wallet: WalletIdSchema,
  from: AccountIdSchema,
  to: AccountIdSchema,
  amount: z.number().int().positive().max(1_000_000_000),
});
export type LedgerLine = z.infer<typeof LedgerLineSchema>;

export const BalanceSchema = z.object({
  wallet: WalletIdSchema,
  amount: z.number().int(),
});
export type Balance = z.infer<typeof BalanceSchema>;

export function residentAccount(ref: string): AccountId {
  return `resident:${ref}` as AccountId;
}

export function schemeAccount(id: string): AccountId {
  return `scheme:${id}` as AccountId;
}

/** The time bank's own account (one per time-bank scheme). */
export function timebankAccount(schemeId: string): AccountId {
  return `timebank:${schemeId}` as AccountId;
}

/** An outlet or council venue that is paid by redemptions. */
export function outletAccount(id: string): AccountId {
  return `outlet:${id}` as AccountId;
}

/** A ward's neighbourhood budget. */
export function wardAccount(id: string): AccountId {
  return `ward:${id}` as AccountId;
}

export type WalletUnit = 'pence' | 'points' | 'credits' | 'minutes';

/** The unit a wallet counts in. */
export function walletUnit(wallet: string): WalletUnit {
  if (wallet === 'learning-points') return 'points';
  if (wallet === 'living-credit') return 'credits';
  if (wallet === 'time-credit') return 'minutes';
  return 'pence';
}

/**
 * Net effect of lines on every account, per wallet (account → wallet → amount). Every
 * movement sums to zero, so the amounts of one wallet over all accounts sum to zero.
 */
export function allBalances(lines: readonly LedgerLine[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const add = (account: string, wallet: string, amount: number) => {
    let m = out.get(account);
    if (!m) out.set(account, (m = new Map()));
    m.set(wallet, (m.get(wallet) ?? 0) + amount);
  };
  for (const l of lines) {
    add(l.to, l.wallet, l.amount);
    add(l.from, l.wallet, -l.amount);
  }
  return out;
}

/** Net effect of lines on one account, per wallet. Integer arithmetic only. */
export function balancesOf(account: string, lines: readonly LedgerLine[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of lines) {
    if (l.to === account) out.set(l.wallet, (out.get(l.wallet) ?? 0) + l.amount);
    if (l.from === account) out.set(l.wallet, (out.get(l.wallet) ?? 0) - l.amount);
  }
  return out;
}
