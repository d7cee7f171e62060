import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/open.js';
import {
  FEATURE_COLUMNS,
  NF,
  ageIndex,
  USAGE_INTS,
  decodeUsage,
  emptyFeatureRow,
  encodeUsage,
  kindClass,
  type UsageRow,
} from './model.js';
import { RESIDENT_SET_CAP, residentSetWith } from './privacy.js';
import type { WarmStep } from './warm-up.js';

/**
 * SQL access for the analytics tables (migration 003): prepared statements only, plain
 * numbers in and out. Dimension values (venue, service, ward ids) are mapped to small
 * integer codes, cached in memory; so are residents' analytics ids, age bands and wards.
 */
export type CodeKind = 'venue' | 'service' | 'ward';

export interface ResidentDims {
  id: number;
  age: number;
  ward: number;
}

export interface ServiceDims {
  code: number;
  kind: number;
}

const FEATURE_SELECT = FEATURE_COLUMNS.join(', ');

const WRITE_RESIDENT = `UPDATE analytics_residents SET ${FEATURE_COLUMNS.map((c) => `${c} = ?`).join(', ')}, usage = ? WHERE id = ?`;

/** Keys bound per statement when many rows are read by key (as a JSON array). */
const IN_CHUNK = 1000;

/** Residents read per page when every row is loaded at once. */
const WARM_PAGE_ROWS = 50_000;

/** Resident ids added per statement to those awaiting re-scoring (as a JSON array). */
const RESCORE_CHUNK = 10_000;

/** The analytics_meta counter bumped by every change to the usage tables. */
export const USAGE_VERSION = 'usage_version';

/**
 * Per database, what writes out the changes ingestion listeners hold in memory (see
 * listener.ts): called before the usage version is read, since whoever reads it is about
 * to read the analytics tables in SQL (or key a cache on them) and must see every visit.
 */
const heldChanges = new WeakMap<Db, Set<() => void>>();

export function holdChanges(db: Db, writeOut: () => void): () => void {
  let set = heldChanges.get(db);
  if (!set) {
    set = new Set();
    heldChanges.set(db, set);
  }
  set.add(writeOut);
  return () => set.delete(writeOut);
}

/**
 * Every resident's analytics row in memory (ref, dims, feature row, usage entries as
 * stored), by analytics id: loaded by `AnalyticsDb.warmRows` when the backend starts and
 * kept current by `writeResident` and new residents' rows, so that the listener, the
 * window advance and re-scoring read residents without a B-tree lookup each. Typed
 * arrays (usage entries in one arena), so that the garbage collector has few objects
 * to walk.
 */
class RowCache {
  readonly idOf = new Map<string, number>();
  refOf: (string | undefined)[] = [];
  age = new Uint8Array(0);
  ward = new Int32Array(0);
  rows = new Float64Array(0);
  /** Usage entries (bytes as stored) of id at usageAt[id], usageLen[id] bytes, room for usageRoom[id]. */
  arena = new Uint8Array(0);
  used = 0;
  /** Bytes of the arena no resident uses any more (moved on growing). */
  wasted = 0;
  usageAt = new Int32Array(0);
  usageLen = new Int32Array(0);
  usageRoom = new Int32Array(0);

  put(
    ref: string,
    id: number,
    age: number,
    ward: number,
    row: ArrayLike<number>,
    at: number,
    usage: Uint8Array,
  ): void {
    if (id >= this.age.length) this.#grow(id);
    this.idOf.set(ref, id);
    this.refOf[id] = ref;
    this.age[id] = age;
    this.ward[id] = ward;
    const o = id * NF;
    for (let j = 0; j < NF; j++) this.rows[o + j] = row[at + j] ?? 0;
    this.#setUsage(id, usage);
  }

  has(id: number): boolean {
    return this.refOf[id] !== undefined;
  }

  /** A view of id's usage entries (valid until the next put). */
  usage(id: number): Uint8Array {
    const at = this.usageAt[id] ?? 0;
    return this.arena.subarray(at, at + (this.usageLen[id] ?? 0));
  }

  #setUsage(id: number, usage: Uint8Array): void {
    const n = usage.byteLength;
    if (n > (this.usageRoom[id] ?? 0)) {
      // Moved to the end, with room for one more entry.
      const room = n + USAGE_INTS * 4;
      this.wasted += this.usageRoom[id] ?? 0;
      this.usageRoom[id] = 0;
      if (this.used + room > this.arena.length) this.#makeRoom(room);
      this.usageAt[id] = this.used;
      this.usageRoom[id] = room;
      this.used += room;
    }
    this.arena.set(usage, this.usageAt[id] ?? 0);
    this.usageLen[id] = n;
  }

  /** Room for `room` more bytes: the arena compacted if half of it is wasted, else grown. */
  #makeRoom(room: number): void {
    const compact = this.wasted * 2 > this.used;
    const need = (compact ? this.used - this.wasted : this.used) + room;
    const arena = new Uint8Array(Math.max(1 << 16, Math.ceil(need * 1.5)));
    if (compact) {
      let used = 0;
      for (let id = 0; id < this.usageAt.length; id++) {
        const r = this.usageRoom[id] ?? 0;
        if (r === 0) continue;
        const at = this.usageAt[id] ?? 0;
        arena.set(this.arena.subarray(at, at + (this.usageLen[id] ?? 0)), used);
        this.usageAt[id] = used;
        used += r;
      }
      this.used = used;
      this.wasted = 0;
    } else {
      arena.set(this.arena.subarray(0, this.used));
    }
    this.arena = arena;
  }

  #grow(id: number): void {
    const m = Math.max(id + 1, Math.ceil(this.age.length * 1.25) + 1024);
    const age = new Uint8Array(m);
    age.set(this.age);
    this.age = age;
    const ward = new Int32Array(m);
    ward.set(this.ward);
    this.ward = ward;
    const rows = new Float64Array(m * NF);
    rows.set(this.rows);
    this.rows = rows;
    for (const k of ['usageAt', 'usageLen', 'usageRoom'] as const) {
      const a = new Int32Array(m);
      a.set(this[k]);
      this[k] = a;
    }
  }
}

export class AnalyticsDb {
  readonly #stmts = new Map<string, Statement>();
  readonly #codes = new Map<string, number>();
  readonly #codeKeys = new Map<CodeKind, string[]>();
  readonly #residents = new Map<string, ResidentDims>();
  readonly #services = new Map<string, ServiceDims>();
  #rowCache: RowCache | null = null;
  /** Rows being loaded a page at a time (see warmingRows), not used until complete. */
  #rowsWarming: RowCache | null = null;

  constructor(readonly db: Db) {
    // Used by the rollup upsert: adds a resident id to a cell's capped set in SQL.
    db.function(
      'analytics_rset_add',
      { deterministic: true },
      (blob: unknown, id: unknown): Buffer | Uint8Array => {
        const b = blob as Uint8Array;
        return residentSetWith(b, Number(id), RESIDENT_SET_CAP) ?? b;
      },
    );
  }

  s(sql: string): Statement {
    let st = this.#stmts.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.#stmts.set(sql, st);
    }
    return st;
  }

  // ── meta ─────────────────────────────────────────────────────────────────────

  /**
   * A meta value. Reading the usage version first writes out the visits ingestion
   * listeners of this database hold in memory (see `holdChanges`).
   */
  meta(key: string): number | null {
    if (key === USAGE_VERSION) for (const writeOut of heldChanges.get(this.db) ?? []) writeOut();
    return this.storedMeta(key);
  }

  /** A meta value as stored, without writing anything out first. */
  storedMeta(key: string): number | null {
    const r = this.s('SELECT value FROM analytics_meta WHERE key = ?').get(key) as
      { value: number } | undefined;
    return r?.value ?? null;
  }

  setMeta(key: string, value: number): void {
    this.s(
      'INSERT INTO analytics_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }

  /** Increments a counter and returns its new value (used as a change version). */
  bump(key: string): number {
    const r = this.s(
      `INSERT INTO analytics_meta (key, value) VALUES (?, 1)
       ON CONFLICT(key) DO UPDATE SET value = value + 1 RETURNING value`,
    ).get(key) as { value: number };
    return r.value;
  }

  // ── codes ────────────────────────────────────────────────────────────────────

  /** The small integer code of a venue, service or ward id, created on first use. */
  code(kind: CodeKind, key: string): number {
    const mk = `${kind}\u0000${key}`;
    let c = this.#codes.get(mk);
    if (c !== undefined) return c;
    const row = this.s('SELECT code FROM analytics_codes WHERE kind = ? AND key = ?').get(
      kind,
      key,
    ) as { code: number } | undefined;
    if (row) {
      c = row.code;
    } else {
      const next = this.s(
        'SELECT COALESCE(MAX(code), -1) + 1 AS c FROM analytics_codes WHERE kind = ?',
      ).get(kind) as { c: number };
      c = next.c;
      this.s('INSERT INTO analytics_codes (kind, key, code) VALUES (?, ?, ?)').run(kind, key, c);
    }
    this.#codes.set(mk, c);
    this.#codeKeys.delete(kind);
    return c;
  }

  /** Code → id of every code of a kind. */
  keys(kind: CodeKind): string[] {
    let k = this.#codeKeys.get(kind);
    if (!k) {
      k = [];
      for (const r of this.s('SELECT key, code FROM analytics_codes WHERE kind = ?').all(kind) as {
        key: string;
        code: number;
      }[]) {
        k[r.code] = r.key;
      }
      this.#codeKeys.set(kind, k);
    }
    return k;
  }

  /** Code if the id is known, without creating one. */
  findCode(kind: CodeKind, key: string): number | null {
    const r = this.s('SELECT code FROM analytics_codes WHERE kind = ? AND key = ?').get(
      kind,
      key,
    ) as { code: number } | undefined;
    return r?.code ?? null;
  }

  service(id: string): ServiceDims {
    let s = this.#services.get(id);
    if (!s) {
      const row = this.s('SELECT kind FROM services WHERE id = ?').get(id) as
        { kind: string } | undefined;
      s = { code: this.code('service', id), kind: kindClass(row?.kind ?? 'other') };
      this.#services.set(id, s);
    }
    return s;
  }

  // ── residents ────────────────────────────────────────────────────────────────

  /**
   * Analytics id, age band and ward of a resident, creating the analytics row (with an
   * empty feature row) on first sight. Null for a resident the council does not know.
   */
  resident(ref: string): ResidentDims | null {
    const hit = this.#residents.get(ref);
    if (hit) return hit;
    const row = this.s('SELECT id, age, ward FROM analytics_residents WHERE resident_ref = ?').get(
      ref,
    ) as ResidentDims | undefined;
    if (row) {
      this.#residents.set(ref, row);
      return row;
    }
    const r = this.s('SELECT age_band, ward FROM residents WHERE ref = ?').get(ref) as
      { age_band: string; ward: string } | undefined;
    if (!r) return null;
    const age = ageIndex(r.age_band);
    const ward = this.code('ward', r.ward);
    const ins = this.s(
      'INSERT INTO analytics_residents (resident_ref, age, ward) VALUES (?, ?, ?) RETURNING id',
    ).get(ref, age, ward) as { id: number };
    const dims = { id: ins.id, age, ward };
    this.#residents.set(ref, dims);
    const c = this.#rowCache ?? this.#rowsWarming;
    if (c) {
      const empty = new Float64Array(NF);
      emptyFeatureRow(empty);
      c.put(ref, ins.id, age, ward, empty, 0, Buffer.alloc(0));
    }
    return dims;
  }

  /**
   * A resident's dims, feature row (into `out`) and usage entries in one read (the
   * ingestion listener's path); creates the analytics row on first sight. Null for a
   * resident the council does not know.
   */
  loadResident(
    ref: string,
    out: Float64Array,
    at: number,
  ): { dims: ResidentDims; usage: UsageRow[] } | null {
    const c = this.#rowCache;
    const cached = c?.idOf.get(ref);
    if (c && cached !== undefined) return this.#fromCache(c, cached, out, at);
    const r = this.s(
      `SELECT id, age, ward, ${FEATURE_SELECT}, usage FROM analytics_residents WHERE resident_ref = ?`,
    )
      .raw(true)
      .get(ref) as (number | Buffer)[] | undefined;
    if (!r) {
      const dims = this.resident(ref);
      if (!dims) return null;
      const usage = this.readResident(dims.id, out, at);
      return usage ? { dims, usage } : null;
    }
    for (let j = 0; j < NF; j++) out[at + j] = Number(r[j + 3] ?? 0);
    return {
      dims: { id: Number(r[0]), age: Number(r[1]), ward: Number(r[2]) },
      usage: decodeUsage(r[NF + 3] as Buffer),
    };
  }

  /**
   * The analytics rows of many residents in one statement per `IN_CHUNK` refs (the
   * ingestion listener's and the window advance's path): for refs[i], its dims and usage
   * entries at [i], its feature row into `out` at i × NF; null where a resident has no
   * analytics row yet (see `loadResident`, which creates it). Refs must be distinct.
   */
  loadResidents(
    refs: readonly string[],
    out: Float64Array,
  ): ({ dims: ResidentDims; usage: UsageRow[] } | null)[] {
    const c = this.#rowCache;
    if (c) {
      return refs.map((ref, i) => {
        const id = c.idOf.get(ref);
        return id === undefined ? null : this.#fromCache(c, id, out, i * NF);
      });
    }
    const found = new Array<{ dims: ResidentDims; usage: UsageRow[] } | null>(refs.length).fill(
      null,
    );
    const index = new Map<string, number>();
    refs.forEach((ref, i) => index.set(ref, i));
    const st = this.s(
      `SELECT resident_ref, id, age, ward, ${FEATURE_SELECT}, usage FROM analytics_residents
       WHERE resident_ref IN (SELECT value FROM json_each(?))`,
    ).raw(true);
    for (let lo = 0; lo < refs.length; lo += IN_CHUNK) {
      const chunk = JSON.stringify(refs.slice(lo, lo + IN_CHUNK));
      for (const r of st.iterate(chunk) as Iterable<(string | number | Buffer)[]>) {
        const i = index.get(r[0] as string);
        if (i === undefined) continue;
        const at = i * NF;
        for (let j = 0; j < NF; j++) out[at + j] = Number(r[j + 4] ?? 0);
        found[i] = {
          dims: { id: Number(r[1]), age: Number(r[2]), ward: Number(r[3]) },
          usage: decodeUsage(r[NF + 4] as Buffer),
        };
      }
    }
    return found;
  }

  /**
   * Forgets cached resident dims and rows (after a rebuild may have changed them); rows
   * being warmed are read again from the start.
   */
  forgetResidents(): void {
    this.#residents.clear();
    this.#rowCache = null;
    this.#rowsWarming = null;
  }

  /** Loads every resident's row into memory (see RowCache), unless loaded. */
  warmRows(): void {
    for (const _ of this.warmingRows(WARM_PAGE_ROWS)) {
      // every page at once
    }
  }

  /**
   * warmRows() a page of `pageRows` residents per step, for a caller that yields to the
   * event loop between steps. Until the last page the rows are not used: reads go to
   * SQL as without them. Rows written or created meanwhile are kept current in the pages
   * already read (later pages read them as committed); if residents are forgotten
   * meanwhile (a rolled-back batch, a rebuild), reading starts again.
   */
  *warmingRows(pageRows: number): Generator<WarmStep> {
    const page = this.s(
      `SELECT id, resident_ref, age, ward, ${FEATURE_SELECT}, usage FROM analytics_residents
       WHERE id > ? ORDER BY id LIMIT ?`,
    ).raw(true);
    while (!this.#rowCache) {
      const c = new RowCache();
      this.#rowsWarming = c;
      try {
        for (let after = -1; this.#rowsWarming === c;) {
          const rows = page.all(after, pageRows) as (string | number | Buffer)[][];
          for (const r of rows) {
            after = r[0] as number;
            // A row written or created since this warm-up began is already here, current.
            if (c.has(after)) continue;
            c.put(
              r[1] as string,
              after,
              r[2] as number,
              r[3] as number,
              r as number[],
              4,
              r[NF + 4] as Buffer,
            );
          }
          if (rows.length < pageRows) this.#rowCache = c;
          yield { phase: 'rows', rows: rows.length };
          if (this.#rowCache === c) return;
        }
      } finally {
        // Done, stopped or forgotten: these rows are no longer being warmed.
        if (this.#rowsWarming === c) this.#rowsWarming = null;
      }
      // Forgotten meanwhile: read again, unless another warm-up has taken over.
      if (this.#rowsWarming !== null) return;
    }
  }

  get rowsWarm(): boolean {
    return this.#rowCache !== null;
  }

  /** A cached resident's dims and usage entries, their feature row into `out` at `at`. */
  #fromCache(
    c: RowCache,
    id: number,
    out: Float64Array,
    at: number,
  ): { dims: ResidentDims; usage: UsageRow[] } {
    out.set(c.rows.subarray(id * NF, id * NF + NF), at);
    return {
      dims: { id, age: c.age[id] ?? 0, ward: c.ward[id] ?? 0 },
      usage: decodeUsage(c.usage(id)),
    };
  }

  /** Reads a resident's feature row into `out` at `at`, and their usage entries. */
  readResident(id: number, out: Float64Array, at: number): UsageRow[] | null {
    const c = this.#rowCache;
    if (c?.has(id)) return this.#fromCache(c, id, out, at).usage;
    const r = this.s(`SELECT ${FEATURE_SELECT}, usage FROM analytics_residents WHERE id = ?`)
      .raw(true)
      .get(id) as (number | Buffer)[] | undefined;
    if (!r) return null;
    for (let j = 0; j < NF; j++) out[at + j] = Number(r[j] ?? 0);
    return decodeUsage(r[NF] as Buffer);
  }

  /**
   * Feature rows of many residents (one statement per `IN_CHUNK` ids), with whether each
   * has granted `purpose`: calls `each` with the id, the rows' buffer and the offset of
   * the id's row in it. Ids without a row are not visited; the order is the ids' order.
   */
  forEachFeatureRow(
    ids: readonly number[],
    purpose: string,
    each: (id: number, row: Float64Array, at: number, granted: boolean) => void,
  ): void {
    const c = this.#rowCache;
    if (c) {
      this.#forEachCachedRow(c, ids, purpose, each);
      return;
    }
    const st = this.s(
      `SELECT a.id, ${FEATURE_COLUMNS.map((c) => `a.${c}`).join(', ')},
         EXISTS (SELECT 1 FROM consents c WHERE c.resident_ref = a.resident_ref AND c.purpose = ? AND c.granted = 1)
       FROM analytics_residents a WHERE a.id IN (SELECT value FROM json_each(?))`,
    ).raw(true);
    const rows = new Float64Array(Math.min(ids.length, IN_CHUNK) * NF);
    const at = new Map<number, number>();
    const granted = new Uint8Array(Math.min(ids.length, IN_CHUNK));
    for (let lo = 0; lo < ids.length; lo += IN_CHUNK) {
      const chunk = ids.slice(lo, lo + IN_CHUNK);
      at.clear();
      let k = 0;
      for (const r of st.iterate(purpose, JSON.stringify(chunk)) as Iterable<number[]>) {
        const o = k * NF;
        for (let j = 0; j < NF; j++) rows[o + j] = r[j + 1] ?? 0;
        granted[k] = r[NF + 1] === 1 ? 1 : 0;
        at.set(r[0] ?? 0, k);
        k++;
      }
      for (const id of chunk) {
        const i = at.get(id);
        if (i !== undefined) each(id, rows, i * NF, granted[i] === 1);
      }
    }
  }

  /** forEachFeatureRow over the rows in memory: only consents are read from SQL. */
  #forEachCachedRow(
    c: RowCache,
    ids: readonly number[],
    purpose: string,
    each: (id: number, row: Float64Array, at: number, granted: boolean) => void,
  ): void {
    const st = this.s(
      `SELECT resident_ref FROM consents
       WHERE resident_ref IN (SELECT value FROM json_each(?)) AND purpose = ? AND granted = 1`,
    ).pluck();
    for (let lo = 0; lo < ids.length; lo += IN_CHUNK) {
      const chunk = ids.slice(lo, lo + IN_CHUNK).filter((id) => c.has(id));
      const granted = new Set(
        st.all(JSON.stringify(chunk.map((id) => c.refOf[id])), purpose) as string[],
      );
      for (const id of chunk) each(id, c.rows, id * NF, granted.has(c.refOf[id] ?? ''));
    }
  }

  /** Reads a resident's feature row alone into `out` at `at`; false if there is none. */
  readFeatures(id: number, out: Float64Array, at: number): boolean {
    const r = this.s(`SELECT ${FEATURE_SELECT} FROM analytics_residents WHERE id = ?`)
      .raw(true)
      .get(id) as number[] | undefined;
    if (!r) return false;
    for (let j = 0; j < NF; j++) out[at + j] = r[j] ?? 0;
    return true;
  }

  writeResident(id: number, row: Float64Array, at: number, usage: readonly UsageRow[]): void {
    const args: number[] = [];
    for (let j = 0; j < NF; j++) args.push(row[at + j] ?? 0);
    const blob = encodeUsage(usage);
    this.s(WRITE_RESIDENT).run(...args, blob, id);
    // Rows being warmed are kept current too (those not read yet are read as written).
    const c = this.#rowCache ?? this.#rowsWarming;
    const ref = c?.refOf[id];
    if (c && ref !== undefined) c.put(ref, id, c.age[id] ?? 0, c.ward[id] ?? 0, row, at, blob);
  }

  // ── residents awaiting re-scoring ─────────────────────────────────────────────

  /**
   * Adds residents (distinct analytics ids) to those awaiting re-scoring (migration 014),
   * `RESCORE_CHUNK` ids per statement; the caller holds the transaction that writes
   * their rows out.
   */
  markForRescore(ids: readonly number[]): void {
    const st = this.s(
      'INSERT OR IGNORE INTO analytics_rescore (resident_id) SELECT value FROM json_each(?)',
    );
    for (let lo = 0; lo < ids.length; lo += RESCORE_CHUNK) {
      st.run(JSON.stringify(ids.slice(lo, lo + RESCORE_CHUNK)));
    }
  }

  /**
   * The residents awaiting re-scoring, in id order, and clears them; call it inside the
   * transaction that re-scores them, so that a step that fails leaves them awaiting.
   */
  takeRescore(): number[] {
    const ids = this.s('SELECT resident_id FROM analytics_rescore ORDER BY resident_id')
      .pluck()
      .all() as number[];
    this.clearRescore();
    return ids;
  }

  /** Forgets who awaits re-scoring (everyone was scored, or every row was rebuilt). */
  clearRescore(): void {
    this.s('DELETE FROM analytics_rescore').run();
  }

  // ── rollup ───────────────────────────────────────────────────────────────────

  addUsageVisits(
    week: number,
    how: number,
    venue: number,
    service: number,
    age: number,
    ward: number,
    visits: number,
    residentId: number,
    set: Buffer,
  ): void {
    this.s(
      `INSERT INTO analytics_usage (week, how, venue, service, age, ward, visits, residents)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (week, how, venue, service, age, ward) DO UPDATE SET
         visits = visits + excluded.visits,
         residents = analytics_rset_add(residents, ?)`,
    ).run(week, how, venue, service, age, ward, visits, set, residentId);
  }

  // ── consent ──────────────────────────────────────────────────────────────────

  /** Analytics ids of residents who have granted a purpose (e.g. 'segmentation-health'). */
  consentedIds(purpose: string): Set<number> {
    const rows = this.s(
      `SELECT a.id AS id FROM consents c JOIN analytics_residents a ON a.resident_ref = c.resident_ref
       WHERE c.purpose = ? AND c.granted = 1`,
    ).all(purpose) as { id: number }[];
    return new Set(rows.map((r) => r.id));
  }

  setConsent(ref: string, purpose: string, granted: boolean, at: number): void {
    this.s(
      `INSERT INTO consents (resident_ref, purpose, granted, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (resident_ref, purpose) DO UPDATE SET granted = excluded.granted, updated_at = excluded.updated_at`,
    ).run(ref, purpose, granted ? 1 : 0, at);
  }
}

/** Consent purpose under which GP drop-in visits may enter segmentation. */
export const HEALTH_SEGMENTATION = 'segmentation-health';
