import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminService } from '../admin/admin-service.js';
import { openBackendDb } from '../db/open.js';
import { loadDemoData } from '../demo/demo-data.js';
import { ensureBackendSecrets } from '../keys.js';
import { SqliteBackendStore } from '../store/sqlite-store.js';
import { isEnrolmentDesk } from '../sync/ingest.js';
import { runClubcard } from './test-cli.js';

/** `clubcard kiosk add --enrolment-desk`, `clubcard kiosk desk --on|--off` and the list. */
let dir: string;
let db: string;
let stderr = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'clubcard-kiosks-'));
  db = join(dir, 'backend.sqlite');
  const store = new SqliteBackendStore(openBackendDb(db));
  loadDemoData(new AdminService(store, ensureBackendSecrets(store)));
  store.close();
});

afterEach(() => {
  process.exitCode = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ code: number; json: unknown }> {
  const r = await runClubcard('--db', db, ...args);
  stderr = r.stderr;
  return { code: r.code, json: r.stdout ? (JSON.parse(r.stdout) as unknown) : null };
}

function deskFlag(kioskId: string): boolean {
  const store = new SqliteBackendStore(openBackendDb(db));
  try {
    return isEnrolmentDesk(store, kioskId);
  } finally {
    store.close();
  }
}

const listed = async (): Promise<Record<string, boolean>> => {
  const r = await run('kiosk', 'list');
  expect(r.code).toBe(0);
  return Object.fromEntries(
    (r.json as { kioskId: string; enrolmentDesk: boolean }[]).map((k) => [
      k.kioskId,
      k.enrolmentDesk,
    ]),
  );
};

describe('clubcard kiosk: enrolment desks', () => {
  it('adds a kiosk as an enrolment desk, or not', async () => {
    const desk = await run(
      'kiosk',
      'add',
      '--id',
      'k-desk-1',
      '--venue',
      'v-central-library',
      '--service',
      's-library',
      '--enrolment-desk',
    );
    expect(desk.code).toBe(0);
    expect(desk.json).toMatchObject({ kioskId: 'k-desk-1', enrolmentDesk: true });
    const plain = await run(
      'kiosk',
      'add',
      '--id',
      'k-plain-1',
      '--venue',
      'v-central-library',
      '--service',
      's-library',
    );
    expect(plain.json).toMatchObject({ kioskId: 'k-plain-1', enrolmentDesk: false });
    expect(deskFlag('k-desk-1')).toBe(true);
    expect(deskFlag('k-plain-1')).toBe(false);
    expect(await listed()).toMatchObject({
      'k-desk-1': true,
      'k-plain-1': false,
      'k-library-1': false,
    });
  });

  it('turns a kiosk into an enrolment desk and back', async () => {
    const on = await run('kiosk', 'desk', '--id', 'k-library-1', '--on');
    expect(on).toEqual({ code: 0, json: { kioskId: 'k-library-1', enrolmentDesk: true } });
    expect(deskFlag('k-library-1')).toBe(true);
    expect((await listed())['k-library-1']).toBe(true);
    const off = await run('kiosk', 'desk', '--id', 'k-library-1', '--off');
    expect(off).toEqual({ code: 0, json: { kioskId: 'k-library-1', enrolmentDesk: false } });
    expect(deskFlag('k-library-1')).toBe(false);
  });

  it('refuses a missing or contradictory switch and an unknown kiosk, changing nothing', async () => {
    const neither = await run('kiosk', 'desk', '--id', 'k-library-1');
    expect(neither.code).toBe(2);
    expect(stderr).toMatch(/--on or --off/);
    expect((await run('kiosk', 'desk', '--id', 'k-library-1', '--on', '--off')).code).toBe(2);
    const unknown = await run('kiosk', 'desk', '--id', 'k-nowhere-9', '--on');
    expect(unknown.code).toBe(1);
    expect(stderr).toMatch(/not-found: unknown kiosk/);
    expect((await run('kiosk', 'desk', '--id', 'not a kiosk', '--on')).code).toBe(2);
    expect(deskFlag('k-library-1')).toBe(false);
    expect(deskFlag('k-nowhere-9')).toBe(false);
  });
});
