import type { Statement } from 'better-sqlite3';
import {
  MemoryEngineState,
  counterStateToJson,
  residentStateToJson,
  type CounterState,
  type CounterStateJson,
  type EngineStateView,
  type ResidentState,
  type ResidentStateJson,
  type StateDelta,
} from '@clubcard/shared';
import type { Db } from '../db/open.js';

const MAX_CACHED_RESIDENTS = 200_000;

/** What ingestion needs of the engine's state: read, apply a delta, forget on rollback. */
export interface EngineStateStore extends EngineStateView {
  apply(delta: StateDelta): void;
  forget(): void;
}

/**
 * The engine's state over the backend database: slices are read on first use into an
 * in-memory copy, and every slice a delta touches is written back in the caller's
 * transaction. If that transaction fails, call `forget()` so the memory copy cannot run
 * ahead of what was committed.
 */
export class SqliteEngineState implements EngineStateStore {
  readonly #db: Db;
  #mem = new MemoryEngineState();
  readonly #loaded = {
    resident: new Set<string>(),
    scheme: new Set<string>(),
    ward: new Set<string>(),
  };
  readonly #get: Statement;
  readonly #put: Statement;
  readonly #dataVersion: Statement;
  #seenVersion: number;

  constructor(db: Db) {
    this.#db = db;
    // PRAGMA data_version changes when ANOTHER connection commits (the admin CLI granting
    // or redeeming while the backend runs): the memory copy is then dropped, not trusted.
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#seenVersion = this.#dataVersion.get() as number;
    this.#get = db.prepare('SELECT json FROM engine_state WHERE kind = ? AND key = ?');
    this.#put = db.prepare(
      `INSERT INTO engine_state (kind, key, json) VALUES (?, ?, ?)
       ON CONFLICT(kind, key) DO UPDATE SET json = excluded.json`,
    );
  }

  #checkFresh(): void {
    const v = this.#dataVersion.get() as number;
    if (v !== this.#seenVersion) {
      this.#seenVersion = v;
      this.forget();
    }
  }

  #ensure(kind: 'resident' | 'scheme' | 'ward', key: string): void {
    this.#checkFresh();
    const seen = this.#loaded[kind];
    if (seen.has(key)) return;
    if (kind === 'resident' && seen.size >= MAX_CACHED_RESIDENTS) this.forget();
    const row = this.#get.get(kind, key) as { json: string } | undefined;
    if (row) {
      const json = JSON.parse(row.json) as ResidentStateJson | CounterStateJson;
      if (kind === 'resident') this.#mem.load({ residents: [json as ResidentStateJson] });
      else if (kind === 'scheme') this.#mem.load({ schemes: [json as CounterStateJson] });
      else this.#mem.load({ wards: [json as CounterStateJson] });
    }
    this.#loaded[kind].add(key);
  }

  resident(ref: string): ResidentState | undefined {
    this.#ensure('resident', ref);
    return this.#mem.resident(ref);
  }

  scheme(id: string): CounterState | undefined {
    this.#ensure('scheme', id);
    return this.#mem.scheme(id);
  }

  ward(id: string): CounterState | undefined {
    this.#ensure('ward', id);
    return this.#mem.ward(id);
  }

  /** Applies a delta in memory and writes the touched slices (inside the caller's transaction). */
  apply(delta: StateDelta): void {
    for (const d of delta.residents) this.#ensure('resident', d.ref);
    for (const d of delta.schemes) this.#ensure('scheme', d.id);
    for (const d of delta.wards) this.#ensure('ward', d.id);
    this.#mem.apply(delta);
    for (const d of delta.residents) {
      const s = this.#mem.resident(d.ref);
      if (s) this.#put.run('resident', d.ref, JSON.stringify(residentStateToJson(s)));
    }
    for (const d of delta.schemes) {
      const s = this.#mem.scheme(d.id);
      if (s) this.#put.run('scheme', d.id, JSON.stringify(counterStateToJson(s)));
    }
    for (const d of delta.wards) {
      const s = this.#mem.ward(d.id);
      if (s) this.#put.run('ward', d.id, JSON.stringify(counterStateToJson(s)));
    }
  }

  /** Drops the memory copy; the next reads come from the database. */
  forget(): void {
    this.#mem = new MemoryEngineState();
    for (const s of Object.values(this.#loaded)) s.clear();
  }

  get db(): Db {
    return this.#db;
  }
}
