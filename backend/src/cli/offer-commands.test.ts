import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminService } from '../admin/admin-service.js';
import { openBackendDb } from '../db/open.js';
import { loadDemoData } from '../demo/demo-data.js';
import { ensureBackendSecrets } from '../keys.js';
import { offerCounty } from '../offers/test-county.js';
import { SqliteBackendStore } from '../store/sqlite-store.js';
import { main } from './main.js';

let dir: string;
let db: string;
let stdout = '';
let stderr = '';
let regular = '';
let regularsCluster = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'clubcard-offers-'));
  db = join(dir, 'backend.sqlite');
  const store = new SqliteBackendStore(openBackendDb(db));
  const admin = new AdminService(store, ensureBackendSecrets(store));
  loadDemoData(admin);
  const county = offerCounty(store, admin);
  regular = county.regulars[0]!;
  const r = store.db
    .prepare(
      `SELECT s.cluster FROM analytics_segments s JOIN analytics_residents a ON a.id = s.resident_id
       WHERE a.resident_ref = ?`,
    )
    .get(regular) as { cluster: number };
  regularsCluster = `cluster:${r.cluster}`;
  store.close();
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ code: number; json: unknown }> {
  stdout = '';
  const code = await main(['node', 'clubcard', '--db', db, ...args]);
  return { code, json: stdout ? (JSON.parse(stdout) as unknown) : null };
}

describe('clubcard offers', () => {
  it('lists segments, creates, lists and retires offers', async () => {
    const segs = await run('offers', 'segments');
    expect(segs.code).toBe(0);
    expect(
      (segs.json as { segments: { segmentId: string }[] }).segments.map((s) => s.segmentId),
    ).toContain(regularsCluster);
    const made = await run(
      'offers',
      'create',
      '--segment',
      regularsCluster,
      '--title-en',
      'Bring a friend swimming',
      '--title-cy',
      'Dewch â ffrind i nofio',
      '--service',
      's-swim',
      '--starts',
      '2025-03-01',
      '--ends',
      '2025-03-31',
    );
    expect(made.code).toBe(0);
    expect(made.json).toMatchObject({ status: 'active', targeted: 24, tookUp: 24 });
    const id = (made.json as { id: string }).id;
    expect(((await run('offers', 'list')).json as { offers: unknown[] }).offers).toHaveLength(1);
    const retired = await run('offers', 'retire', id);
    expect(retired).toMatchObject({ code: 0, json: { id, status: 'retired' } });
  });

  it('refuses a segment below k (1) and bad input (2), creating nothing', async () => {
    const base = ['offers', 'create', '--title-en', 'A', '--title-cy', 'B', '--starts'];
    expect((await run(...base, '2025-03-01', '--segment', 'rfm:champions')).code).toBe(1);
    expect(stderr).toMatch(/fewer than 10 residents/);
    expect((await run(...base, 'March', '--segment', regularsCluster)).code).toBe(2);
    expect(
      (await run(...base, '2025-03-01', '--segment', regularsCluster, '--detail-en', 'only')).code,
    ).toBe(2);
    expect((await run('offers', 'retire', 'of-nothere')).code).toBe(1);
    expect(((await run('offers', 'list')).json as { offers: unknown[] }).offers).toEqual([]);
  });
});

describe('clubcard resident-access', () => {
  it('issues a code once and shows what a resident consented to', async () => {
    const issued = await run('resident-access', 'issue', '--resident', regular);
    expect(issued.code).toBe(0);
    expect((issued.json as { code: string }).code).toMatch(/^[A-Z2-9]{6}(-[A-Z2-9]{4}){4}$/);
    const consents = await run('resident-access', 'consents', '--resident', regular);
    expect(consents.json).toMatchObject({ attributes: [] });
    expect((await run('resident-access', 'issue', '--resident', 'r-nobody0000')).code).toBe(1);
  });
});
