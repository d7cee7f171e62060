/**
 * Lots: the parts of a resident's positive balance, each with its expiry, kept in
 * spending order. Live state holds them flat (strings shared with the compiled schemes
 * and small integers only), so that the engine's steady stream of updates is copied into
 * existing arrays rather than allocating objects that outlive a garbage collection.
 *
 * Layout, LOT_STRIDE entries per lot:
 *   wallet, schemeId, schemeVersion, source account, amount, expiresAt, id (6 entries)
 * `expiresAt` is in minutes since the epoch (expiry instants are always whole hours),
 * NEVER_EXPIRES for never; the id is `<eventId>:<line index>` of the first line that
 * granted it (later equal lots merge in). Event ids are lowercase UUIDs, so the id is
 * held as numbers: the UUID's 32 hex digits in five small integers, then the line index
 * (a lot id kept as a string would be a new string per lot, each one promoted by the
 * garbage collector and dropped again when the lot is spent or expires). An id of any
 * other form is kept whole as a string in the first id entry, line index −1.
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

export const LOT_STRIDE = 12;
export const L_WALLET = 0;
export const L_SCHEME = 1;
export const L_VERSION = 2;
export const L_SOURCE = 3;
export const L_AMOUNT = 4;
export const L_EXPIRES = 5;
/** First of the id's entries: five for the UUID's hex digits, then the line index. */
export const L_ID = 6;
const ID_PARTS = 5;
const L_LINE = L_ID + ID_PARTS;

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

const HEX_PER_PART = 7; // 28 bits: a small integer
/** String positions of a UUID's 32 hex digits (hyphens after the 8th, 12th, 16th, 20th). */
const UUID_HEX_AT: readonly number[] = Array.from({ length: 32 }, (_, d) =>
  d < 8 ? d : d < 12 ? d + 1 : d < 16 ? d + 2 : d < 20 ? d + 3 : d + 4,
);
const HEX = '0123456789abcdef';

/** Value of a lowercase hex digit's char code, or −1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function isLowerUuid(id: string): boolean {
  if (id.length !== 36) return false;
  for (let k = 8; k <= 23; k += 5) if (id.charCodeAt(k) !== 45) return false;
  for (let d = 0; d < 32; d++)
    if (hexValue(id.charCodeAt(UUID_HEX_AT[d] as number)) < 0) return false;
  return true;
}

/** Writes the id of a lot first granted by line `line` of event `eventId` at `i`. */
export function writeLotId(list: LotList, i: number, eventId: string, line: number): void {
  if (!isLowerUuid(eventId)) {
    writeWholeLotId(list, i, `${eventId}:${line}`);
    return;
  }
  for (let p = 0; p < ID_PARTS; p++) {
    let v = 0;
    const end = Math.min((p + 1) * HEX_PER_PART, 32);
    for (let d = p * HEX_PER_PART; d < end; d++)
      v = v * 16 + hexValue(eventId.charCodeAt(UUID_HEX_AT[d] as number));
    list[i + L_ID + p] = v;
  }
  list[i + L_LINE] = line;
}

/** An id of any other form than `<lowercase UUID>:<line>`, kept whole (line index −1). */
function writeWholeLotId(list: LotList, i: number, id: string): void {
  list[i + L_ID] = id;
  for (let p = 1; p < ID_PARTS; p++) list[i + L_ID + p] = 0;
  list[i + L_LINE] = -1;
}

/** The id of the lot at `i`, as written by writeLotId. */
export function lotIdAt(list: LotList, i: number): string {
  const line = list[i + L_LINE] as number;
  if (line < 0) return list[i + L_ID] as string;
  let hex = '';
  for (let p = 0; p < ID_PARTS; p++) {
    const v = list[i + L_ID + p] as number;
    const n = Math.min(HEX_PER_PART, 32 - p * HEX_PER_PART);
    for (let k = n - 1; k >= 0; k--) hex += HEX[Math.floor(v / 16 ** k) % 16] as string;
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}:${line}`;
}

/** A lot id `<lowercase UUID>:<line index>` as event id and line, or null for any other form. */
function splitLotId(id: string): { eventId: string; line: number } | null {
  const m = /^(.{36}):(0|[1-9][0-9]{0,8})$/.exec(id);
  if (m === null || !isLowerUuid(m[1] as string)) return null;
  return { eventId: m[1] as string, line: Number(m[2]) };
}

export function lotsToJson(list: LotList): Lot[] {
  const out: Lot[] = [];
  for (let i = 0; i < list.length; i += LOT_STRIDE) {
    out.push({
      id: lotIdAt(list, i),
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

/**
 * Appends a lot (expiry in minutes, as held) with its id in JSON form: `<eventId>:<line>`
 * from a lowercase UUID is held as numbers, any other id whole.
 */
export function pushLot(
  list: LotList,
  wallet: string,
  schemeId: string,
  version: number,
  source: string,
  amount: number,
  expires: number,
  id: string,
): void {
  const i = list.length;
  list.push(wallet, schemeId, version, source, amount, expires);
  const split = splitLotId(id);
  if (split !== null) writeLotId(list, i, split.eventId, split.line);
  else writeWholeLotId(list, i, id);
}

export function lotsFromJson(lots: readonly Lot[]): LotList {
  const out: LotList = [];
  for (const l of lots) {
    pushLot(
      out,
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
