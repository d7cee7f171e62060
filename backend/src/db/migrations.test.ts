import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '@clubcard/shared';
import { openBackendDb } from './open.js';

describe('migrations', () => {
  it('create every table on an empty backend database and record the applied ids', () => {
    const db = openBackendDb(':memory:');
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'events',
        'ledger_lines',
        'kiosks',
        'cards',
        'changes',
        'schema_migrations',
      ]),
    );
    const ids = (
      db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: number }[]
    ).map((r) => r.id);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    expect(ids).toEqual([...ids].sort((a, b) => a - b)); // every numbered migration, in order
    expect(ids[0]).toBe(1);
    db.close();
  });

  it('refuse a database written by newer code, and leave it untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mig-'));
    try {
      const file = join(dir, 'b.sqlite');
      openBackendDb(file).close();
      const raw = new Database(file);
      raw
        .prepare(
          "INSERT INTO schema_migrations (id, name, applied_at) VALUES (99, 'from-the-future', 0)",
        )
        .run();
      raw.close();
      let err: unknown;
      try {
        openBackendDb(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('database-ahead-of-code');
      const check = new Database(file, { readonly: true });
      const n = (
        check.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }
      ).n;
      const ids = (check.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map(
        (r) => r.id,
      );
      expect(ids).toContain(99);
      expect(n).toBe(ids.length); // nothing applied, nothing removed
      check.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
