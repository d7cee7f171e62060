/**
 * k-anonymity for every analytics answer (pure functions).
 *
 * An analyst sees only aggregates. A published number must never let anyone learn
 * about fewer than k residents (k = 10 by default), either directly or by differencing
 * two answers. We count *distinct residents* behind a number, not visits: a cell of 40
 * visits by 2 residents is suppressed.
 *
 * Distinct residents are counted with capped resident sets: the set of (analytics-
 * internal, never published) resident ids behind a cell, kept exactly up to a cap of 16
 * and saturated beyond. Sets union across rollup cells, which counts cannot, and a
 * suppression decision only ever needs to know "fewer than k?", so k may be at most
 * the cap.
 *
 * The rules, and the attack each one defeats (every query answer is a table of cells):
 *
 * 1. Primary suppression: a cell behind which there are 1..k−1 residents is hidden.
 *
 * 2. Margins minus visible cells (within an answer, or an answer's total asked another
 *    way): for every "line" of cells whose sum is a number the analyst can also get (the
 *    grand total of a heatmap or trend, a row or column of the age × ward table, and the
 *    family of answers obtained by changing one filter value: all age bands for the
 *    same ward, all wards for the same age band, all venues, all services), if the
 *    hidden cells of the line together cover 1..k−1 residents, more cells are hidden
 *    (fewest residents first, then position) until the hidden cells together cover at
 *    least k. Then margin − visible cells = sum of hidden cells covers ≥ k residents.
 *    Lines are decided independently from primary suppression only, so every query that
 *    touches a line makes the same decision about it, whichever member was asked.
 *
 * 3. Relaxing a filter (the "ward total minus one age band" attack: answer(ward W) −
 *    answer(ward W, age band a) = everyone else in ward W): for every non-empty subset S
 *    of the answer's filters, the residents in the answer with S relaxed but not in the
 *    answer itself (the complement) must number 0 or ≥ k; otherwise the cell is hidden.
 *
 * 4. Moving the ends of the date range (answer(weeks a..b) − answer(weeks a..b−1) =
 *    week b alone): date ranges are whole London weeks, and a cell is hidden unless the
 *    first and the last week in which it has any visit each have ≥ k residents. Any
 *    narrower range then differs from it by a prefix or a suffix that contains one of
 *    those edge weeks, so by ≥ k residents.
 *
 * Totals are computed over all events (not only visible cells), so hidden cells are
 * never "filled in" from a total by a single subtraction; rule 2 makes the hidden part
 * of any margin cover ≥ k residents. What this does not claim: protection against an
 * attacker who combines many answers in a system of equations (that needs noise, i.e.
 * differential privacy); the rules above cover single differences of two answers and
 * margins minus their visible cells.
 */

export const RESIDENT_SET_CAP = 16;
export const DEFAULT_K = 10;

export function checkK(k: number): number {
  if (!Number.isInteger(k) || k < 2 || k > RESIDENT_SET_CAP) {
    throw new Error(`k must be a whole number from 2 to ${RESIDENT_SET_CAP}`);
  }
  return k;
}

/** Encodes a capped resident set for storage: int32 little-endian ids, ascending. */
export function encodeResidentSet(ids: ArrayLike<number>, size = ids.length): Buffer {
  const sorted = Int32Array.from({ length: size }, (_, i) => ids[i] ?? 0).sort();
  return Buffer.from(sorted.buffer, sorted.byteOffset, sorted.byteLength);
}

export function decodeResidentSet(buf: Uint8Array): Int32Array {
  const n = buf.byteLength >>> 2;
  const out = new Int32Array(n);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}

/** Adds `id` to an encoded set (what the ingestion listener does per visit); null if unchanged. */
export function residentSetWith(
  buf: Uint8Array,
  id: number,
  cap = RESIDENT_SET_CAP,
): Buffer | null {
  const ids = decodeResidentSet(buf);
  if (ids.length >= cap || ids.includes(id)) return null;
  const out = new Int32Array(ids.length + 1);
  out.set(ids);
  out[ids.length] = id;
  return encodeResidentSet(out);
}

/**
 * Many capped sets in one pool: cell c holds up to `cap` distinct ids. Adding to a full
 * set is a no-op, so a set's size is exact below the cap and means "≥ cap" at it.
 */
export class CappedSets {
  readonly sizes: Uint8Array;
  readonly ids: Int32Array;
  constructor(
    readonly cells: number,
    readonly cap = RESIDENT_SET_CAP,
  ) {
    this.sizes = new Uint8Array(cells);
    this.ids = new Int32Array(cells * cap);
  }

  add(cell: number, id: number): void {
    const n = this.sizes[cell] ?? 0;
    if (n >= this.cap) return;
    const base = cell * this.cap;
    for (let i = 0; i < n; i++) if (this.ids[base + i] === id) return;
    this.ids[base + n] = id;
    this.sizes[cell] = n + 1;
  }

  /** Adds ids[from, to) of another pool (e.g. a rollup row's set). */
  addAll(cell: number, src: Int32Array, from: number, to: number): void {
    for (let i = from; i < to && (this.sizes[cell] ?? 0) < this.cap; i++)
      this.add(cell, src[i] ?? 0);
  }

  full(cell: number): boolean {
    return (this.sizes[cell] ?? 0) >= this.cap;
  }

  size(cell: number): number {
    return this.sizes[cell] ?? 0;
  }

  clear(cell: number): void {
    this.sizes[cell] = 0;
  }

  /** Size of the union of some cells' sets (capped). */
  unionSize(cells: readonly number[]): number {
    const seen = new Set<number>();
    for (const c of cells) {
      const base = c * this.cap;
      for (let i = 0; i < (this.sizes[c] ?? 0); i++) {
        seen.add(this.ids[base + i] ?? 0);
        if (seen.size >= this.cap) return this.cap;
      }
    }
    return seen.size;
  }
}

/** How many distinct residents are behind a set of cells (capped or exact). */
export type UnionSize = (cells: readonly number[]) => number;

/**
 * Rule 2 for one line: the cells to hide in addition to the line's primary-suppressed
 * cells, so that the hidden cells together cover 0 or ≥ k residents. `residents(c)` is
 * the cell's own count (for ordering), `union` counts a set of cells.
 */
export function lineComplement(
  line: readonly number[],
  primary: (c: number) => boolean,
  residents: (c: number) => number,
  union: UnionSize,
  k: number,
): number[] {
  const hidden = line.filter(primary);
  if (hidden.length === 0 || union(hidden) >= k) return [];
  const candidates = line
    .filter((c) => !primary(c) && residents(c) > 0)
    .sort((a, b) => residents(a) - residents(b) || a - b);
  const extra: number[] = [];
  for (const c of candidates) {
    extra.push(c);
    hidden.push(c);
    if (union(hidden) >= k) break;
  }
  return extra;
}

/** lineComplement over cells of one pool of capped sets (primary: 1..k−1 residents). */
export function setsLineComplement(sets: CappedSets, line: readonly number[], k: number): number[] {
  return lineComplement(
    line,
    (c) => isSmall(sets.size(c), k),
    (c) => sets.size(c),
    (cs) => sets.unionSize(cs),
    k,
  );
}

/** Primary status of a cell: 1..k−1 residents behind it. */
export function isSmall(residents: number, k: number): boolean {
  return residents > 0 && residents < k;
}
