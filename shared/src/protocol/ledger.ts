import { z } from 'zod';
import { EventIdSchema, SchemeIdSchema } from '../ids.js';

/**
 * Wallets: one currency per scheme. Amounts are integers in the wallet's unit
 * (pence, points, minutes); never floating point.
 */
export const WalletIdSchema = z
  .string()
  .regex(
    /^(leisure-credit|learning-points|living-credit|time-credit|voucher:[a-z0-9-]{1,60})$/,
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

/** Net effect of lines on one account, per wallet. Integer arithmetic only. */
export function balancesOf(account: string, lines: readonly LedgerLine[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of lines) {
    if (l.to === account) out.set(l.wallet, (out.get(l.wallet) ?? 0) + l.amount);
    if (l.from === account) out.set(l.wallet, (out.get(l.wallet) ?? 0) - l.amount);
  }
  return out;
}
