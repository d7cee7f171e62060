import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Numbered SQL migrations in files (`001-init.sql`, `002-…`), applied in order of number, each
 * in its own transaction, recorded in `schema_migrations`. A database that has a
 * migration this code does not know is newer than the code: refuse to start.
 *
 * Structural type so that this module does not depend on a particular driver.
 */
export interface MigratableDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): {
    all(...params: unknown[]): unknown[];
    run(...params: unknown[]): unknown;
  };
  transaction(fn: () => void): () => unknown;
}

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export class DatabaseAheadError extends Error {
  override name = 'DatabaseAheadError';
}

export function loadMigrations(dir: string): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d{3})-([a-z0-9-]+)\.sql$/.exec(file);
    if (!m) continue;
    out.push({ id: Number(m[1]), name: m[2] ?? '', sql: readFileSync(join(dir, file), 'utf8') });
  }
  // Ids strictly increase; a number may be skipped (work merged out of order), but a
  // number is never used twice.
  out.forEach((m, i) => {
    const prev = out[i - 1];
    if (prev && m.id <= prev.id) throw new Error(`migration number ${m.id} is used twice`);
  });
  return out;
}

/** Applies pending migrations; returns the ids applied. */
export function migrate(db: MigratableDatabase, migrations: readonly Migration[]): number[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const rows = db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: number }[];
  const applied = new Set(rows.map((r) => r.id));
  const known = new Set(migrations.map((m) => m.id));
  const unknown = [...applied].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new DatabaseAheadError(
      `database has migration(s) ${unknown.join(', ')} that this version does not know: it was written by newer code; refusing to start`,
    );
  }
  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
        m.id,
        m.name,
        Date.now(),
      );
    })();
    done.push(m.id);
  }
  return done;
}
