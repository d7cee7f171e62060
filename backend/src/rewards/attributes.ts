import type { Statement } from 'better-sqlite3';
import type { ResidentProfile } from '@clubcard/shared';
import type { Db } from '../db/open.js';
import type { BackendStore, ResidentRow } from '../store/repository.js';

/** Eligibility flags the engine reads (care-leaver, in-education, prison-leaver …). */
export const AttributeValueSchemaPattern = /^[a-z0-9][a-z0-9:-]{0,60}$/;

export interface ResidentAttributes {
  categories: string[];
  consents: string[];
}

/**
 * A resident's eligibility categories and consents (migration 007). Only what a scheme
 * needs to decide eligibility: never a name, an address or a health record.
 */
export class ResidentAttributeStore {
  readonly #get: Statement;
  readonly #add: Statement;
  readonly #remove: Statement;
  readonly #cards: Statement;
  readonly #holders: Statement;

  constructor(db: Db) {
    this.#cards = db.prepare(
      'SELECT card_hash FROM cards WHERE resident_ref = ? ORDER BY card_hash',
    );
    this.#holders = db.prepare(
      'SELECT DISTINCT resident_ref FROM resident_attributes WHERE kind = ? AND value = ? ORDER BY resident_ref',
    );
    this.#get = db.prepare(
      'SELECT kind, value FROM resident_attributes WHERE resident_ref = ? ORDER BY kind, value',
    );
    this.#add = db.prepare(
      `INSERT INTO resident_attributes (resident_ref, kind, value, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    this.#remove = db.prepare(
      'DELETE FROM resident_attributes WHERE resident_ref = ? AND kind = ? AND value = ?',
    );
  }

  of(ref: string): ResidentAttributes {
    const rows = this.#get.all(ref) as { kind: string; value: string }[];
    return {
      categories: rows.filter((r) => r.kind === 'category').map((r) => r.value),
      consents: rows.filter((r) => r.kind === 'consent').map((r) => r.value),
    };
  }

  add(ref: string, kind: 'category' | 'consent', value: string, at: number): void {
    this.#add.run(ref, kind, value, at);
  }

  remove(ref: string, kind: 'category' | 'consent', value: string): void {
    this.#remove.run(ref, kind, value);
  }

  /** Residents who have this category or consent. */
  holders(kind: 'category' | 'consent', value: string): string[] {
    return (this.#holders.all(kind, value) as { resident_ref: string }[]).map(
      (r) => r.resident_ref,
    );
  }

  /**
   * Puts every card of these residents (blocked ones too) back in the change feed: kiosks
   * hold the categories and consents schemes use on their card rows.
   */
  resyncCards(store: BackendStore, refs: Iterable<string>, at: number): void {
    for (const ref of refs) {
      for (const r of this.#cards.all(ref) as { card_hash: string }[]) {
        store.addChange('card', r.card_hash, at);
      }
    }
  }
}

/** The database behind a store, when it is the SQLite adapter (the only one today). */
export function dbOf(store: BackendStore): Db | null {
  const db = (store as { db?: unknown }).db;
  return db && typeof db === 'object' && 'prepare' in db ? (db as Db) : null;
}

/** The engine's view of a resident: age band, home ward, categories and consents. */
export function profileOf(row: ResidentRow, attrs: ResidentAttributes | null): ResidentProfile {
  return {
    ageBand: row.ageBand,
    resident: true,
    homeWard: row.ward,
    categories: attrs?.categories ?? [],
    consents: attrs?.consents ?? [],
  };
}
