import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/open.js';

export interface OutletRow {
  id: string;
  name: string;
  categories: string[];
  kioskId: string;
  createdAt: number;
}

/** Read access to approved outlets (migration 007), for contexts and the outlet API. */
export class OutletDirectory {
  readonly #get: Statement;
  readonly #list: Statement;
  readonly #cache = new Map<string, OutletRow | null>();

  constructor(db: Db) {
    this.#get = db.prepare('SELECT * FROM outlets WHERE id = ?');
    this.#list = db.prepare('SELECT * FROM outlets ORDER BY id');
  }

  get(id: string): OutletRow | null {
    if (!this.#cache.has(id)) {
      const r = this.#get.get(id) as RawOutlet | undefined;
      this.#cache.set(id, r ? toRow(r) : null);
    }
    return this.#cache.get(id) ?? null;
  }

  list(): OutletRow[] {
    return (this.#list.all() as RawOutlet[]).map(toRow);
  }
}

interface RawOutlet {
  id: string;
  name: string;
  categories: string;
  kiosk_id: string;
  created_at: number;
}

function toRow(r: RawOutlet): OutletRow {
  return {
    id: r.id,
    name: r.name,
    categories: JSON.parse(r.categories) as string[],
    kioskId: r.kiosk_id,
    createdAt: r.created_at,
  };
}
