import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseAheadError, loadMigrations, migrate, AppError } from '@clubcard/shared';

export type Db = Database.Database;

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Opens (and migrates) the backend database. WAL; synchronous=NORMAL is safe here
 * because each ingested batch is one transaction and WAL commits are atomic.
 */
export function openBackendDb(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    migrate(db, loadMigrations(MIGRATIONS_DIR));
  } catch (e) {
    db.close();
    if (e instanceof DatabaseAheadError) throw new AppError('database-ahead-of-code', e.message);
    throw e;
  }
  return db;
}
