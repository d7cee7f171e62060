/**
 * Lots: the parts of a resident's positive balance, each with its expiry, kept in
 * spending order. Live state holds them flat (strings shared with the compiled schemes
 * and small integers only), so that the engine's steady stream of updates is copied into
 * existing arrays rather than allocating objects that outlive a garbage collection.
 *
 * Layout, LOT_STRIDE entries per lot:
 *   wallet, schemeId, schemeVersion, source account, amount, expiresAt, id
 * `expiresAt` is in minutes since the epoch (expiry instants are always whole hours),
 * NEVER_EXPIRES for never; `id` is `<eventId>:<line index>` of the first line that
 * granted it (later equal lots merge in).
 */

/** A lot as plain data (JSON form). */
export interface Lot {
  id: string;
  wallet: string;
  schemeId: string;
  schemeVersion: number;
  /** The account it came from, and goes back to if it expires (scheme or time bank). */
  source: string;
  /** Remaining, > 0. */
  amount: number;
  /** Epoch ms; usable while the resident's clock is before it. Null: never expires. */
  expiresAt: number | null;
}

export type LotList = (string | number)[];

export const LOT_STRIDE = 7;
export const L_WALLET = 0;
export const L_SCHEME = 1;
export const L_VERSION = 2;
export const L_SOURCE = 3;
export const L_AMOUNT = 4;
export const L_EXPIRES = 5;
export const L_ID = 6;

/** expiresAt (minutes) of a lot that never expires: sorts after every real instant. */
export const NEVER_EXPIRES = 1_073_741_823;

export function expiryMinutes(expiresAtMs: number | null): number {
  return expiresAtMs === null ? NEVER_EXPIRES : Math.ceil(expiresAtMs / 60_000);
}

export function expiryMs(minutes: number): number | null {
  return minutes === NEVER_EXPIRES ? null : minutes * 60_000;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Spending order: oldest-expiring first (never last); lots expiring at the same instant
 * in order of wallet, scheme id, scheme version and source. Lots equal on all of these
 * are one lot.
 */
export function compareLotKeys(
  expires: number,
  wallet: string,
  schemeId: string,
  version: number,
  source: string,
  list: LotList,
  i: number,
): number {
  const e = list[i + L_EXPIRES] as number;
  if (expires !== e) return expires - e;
  return (
    cmp(wallet, list[i + L_WALLET] as string) ||
    cmp(schemeId, list[i + L_SCHEME] as string) ||
    version - (list[i + L_VERSION] as number) ||
    cmp(source, list[i + L_SOURCE] as string)
  );
}

/** Earliest expiry (epoch ms) in a lot list, or Number.MAX_SAFE_INTEGER when none expires. */
export function firstExpiryMs(list: LotList): number {
  if (list.length === 0) return Number.MAX_SAFE_INTEGER;
  const e = list[L_EXPIRES] as number;
  return e === NEVER_EXPIRES ? Number.MAX_SAFE_INTEGER : e * 60_000;
}

export function lotsToJson(list: LotList): Lot[] {
  const out: Lot[] = [];
  for (let i = 0; i < list.length; i += LOT_STRIDE) {
    out.push({
      id: list[i + L_ID] as string,
      wallet: list[i + L_WALLET] as string,
      schemeId: list[i + L_SCHEME] as string,
      schemeVersion: list[i + L_VERSION] as number,
      source: list[i + L_SOURCE] as string,
      amount: list[i + L_AMOUNT] as number,
      expiresAt: expiryMs(list[i + L_EXPIRES] as number),
    });
  }
  return out;
}

export function lotsFromJson(lots: readonly Lot[]): LotList {
  const out: LotList = [];
  for (const l of lots) {
    out.push(
      l.wallet,
      l.schemeId,
      l.schemeVersion,
      l.source,
      l.amount,
      expiryMinutes(l.expiresAt),
      l.id,
    );
  }
  return out;
}

/** Copies `from` into `into` in place (same length, same entries). */
export function copyInto<T>(into: T[], from: readonly T[]): void {
  const n = from.length;
  for (let i = 0; i < n; i++) into[i] = from[i] as T;
  if (into.length !== n) into.length = n;
}
