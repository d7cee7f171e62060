import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import express from 'express';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pbkdf2Sync } from 'node:crypto';
import { pino } from 'pino';
import { PullPageSchema } from '@clubcard/shared';
import { backendServices } from '../app.js';
import { main } from '../cli/main.js';
import { openBackendDb } from '../db/open.js';
import { loadDemoData } from '../demo/demo-data.js';
import { errorHandler } from '../http/errors.js';
import { ensureBackendSecrets } from '../keys.js';
import { SqliteBackendStore } from '../store/sqlite-store.js';
import { pullPage } from '../sync/pull.js';
import { hashPin, isAcceptablePin, newPin } from './pin-hash.js';
import { staffRouter } from './routes.js';
import { StaffService } from './staff-service.js';

const STAFF_UID = '04CAFE00000001';
let store: SqliteBackendStore;
let staff: StaffService;
let server: Server;
let url: string;
let adminToken: string;
let analystToken: string;
let residentUid: string;

function verify(pin: string, stored: string): boolean {
  const [, it, salt, key] = stored.split('$');
  return (
    pbkdf2Sync(pin, Buffer.from(salt!, 'base64'), Number(it), 32, 'sha256').toString('base64') ===
    key
  );
}

beforeAll(async () => {
  store = new SqliteBackendStore(openBackendDb(':memory:'));
  const secrets = ensureBackendSecrets(store);
  const services = backendServices(store, secrets);
  const demo = loadDemoData(services.admin);
  residentUid = demo.residents[0]!.uid;
  await services.operators.add({ name: 'adm', role: 'admin', password: 'admin-password-123' });
  await services.operators.add({ name: 'ana', role: 'analyst', password: 'analyst-password-1' });
  adminToken = services.operators.apiToken('adm');
  analystToken = services.operators.apiToken('ana');
  staff = new StaffService(store.db, secrets.cardHashKey);
  // Mounted as the lead's app.ts will mount it, with the same final error handler.
  const app = express();
  app.use(staffRouter({ staff, operators: services.operators }));
  app.use(errorHandler(pino({ level: 'silent' })));
  server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
  store.close();
});

const call = (path: string, token: string | null, body?: unknown): Promise<Response> =>
  fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('staff PINs', () => {
  it('hash to the fixed vector kiosks check (same format on both sides)', () => {
    const salt = Buffer.from([...Array(16).keys()]);
    expect(hashPin('2468', 10_000, salt)).toBe(
      'pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$GgjWCG9tx/ZuEBPQdwdLZH6ofwGkpLjHezyaXuDmorE=',
    );
  });

  it('refuse trivial PINs and generate acceptable ones', () => {
    for (const bad of ['1234', '0000', '9876', '123', 'abcd', '123456789']) {
      expect(isAcceptablePin(bad), bad).toBe(false);
    }
    expect(isAcceptablePin('2468')).toBe(true);
    for (let i = 0; i < 50; i++) expect(isAcceptablePin(newPin())).toBe(true);
  });
});

describe('staff admin API', () => {
  let ref = '';

  it('is for admins only', async () => {
    expect((await call('/api/v1/admin/staff', null)).status).toBe(401);
    expect((await call('/api/v1/admin/staff', analystToken)).status).toBe(403);
    expect(
      (await call('/api/v1/admin/staff', analystToken, { firstName: 'X', venues: ['*'] })).status,
    ).toBe(403);
  });

  it('creates a staff member with a generated PIN shown once, stored only as a hash', async () => {
    const res = await call('/api/v1/admin/staff', adminToken, {
      firstName: 'Alex',
      venues: ['v-riverside-leisure'],
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { staffRef: string; pin: string };
    expect(body.pin).toMatch(/^[0-9]{6}$/);
    ref = body.staffRef;
    const row = store.db.prepare('SELECT pin_hash FROM staff WHERE ref = ?').get(ref) as {
      pin_hash: string;
    };
    expect(row.pin_hash).not.toContain(body.pin);
    expect(verify(body.pin, row.pin_hash)).toBe(true);
    const list = (await (await call('/api/v1/admin/staff', adminToken)).json()) as object[];
    expect(JSON.stringify(list)).not.toContain('pbkdf2');
  });

  it('refuses a weak PIN and unknown fields of the wrong shape', async () => {
    const weak = await call('/api/v1/admin/staff', adminToken, {
      firstName: 'Bo',
      venues: ['*'],
      pin: '1234',
    });
    expect(weak.status).toBe(400);
    const venue = await call('/api/v1/admin/staff', adminToken, {
      firstName: 'Bo',
      venues: ['../etc'],
      pin: '2468',
    });
    expect(venue.status).toBe(400);
  });

  it('issues a staff card as a card hash; a resident card cannot be one', async () => {
    expect(
      (await call(`/api/v1/admin/staff/${ref}/cards`, adminToken, { uid: STAFF_UID })).status,
    ).toBe(201);
    expect(
      (await call(`/api/v1/admin/staff/${ref}/cards`, adminToken, { uid: residentUid })).status,
    ).toBe(400);
    const cards = store.db.prepare('SELECT card_hash FROM staff_cards').all() as {
      card_hash: string;
    }[];
    expect(cards).toHaveLength(1);
    expect(cards[0]!.card_hash).not.toContain(STAFF_UID);
  });

  it('syncs staff to kiosks: PIN hash only where they work, blocked cards as blocked', async () => {
    const kiosks = store.listKiosks();
    const pool = kiosks.find((k) => k.venueId === 'v-riverside-leisure')!;
    const library = kiosks.find((k) => k.venueId === 'v-central-library')!;
    const poolPage = PullPageSchema.parse(
      pullPage(store, pool, 0, 10_000, Date.now(), (r, v) => staff.syncedFor(r, v)),
    );
    const mine = poolPage.staff?.find((s) => s.staffRef === ref);
    expect(mine).toMatchObject({
      firstName: 'Alex',
      status: 'active',
      venues: ['v-riverside-leisure'],
    });
    expect(mine!.pinHash).toMatch(/^pbkdf2-sha256\$/);
    expect(mine!.cards).toEqual([{ cardHash: expect.any(String), status: 'active' }]);
    const libPage = pullPage(store, library, 0, 10_000, Date.now(), (r, v) =>
      staff.syncedFor(r, v),
    );
    expect(libPage.staff?.find((s) => s.staffRef === ref)).toMatchObject({
      status: 'disabled',
      pinHash: '',
    });
    // Without the staff hook (a backend not wired yet) pages stay as before.
    expect(pullPage(store, pool, 0, 10_000, Date.now()).staff).toBeUndefined();

    const cursor = store.latestCursor();
    expect(
      (await call('/api/v1/admin/staff-cards/block', adminToken, { uid: STAFF_UID })).status,
    ).toBe(200);
    const next = pullPage(store, pool, cursor, 100, Date.now(), (r, v) => staff.syncedFor(r, v));
    expect(next.staff?.[0]?.cards[0]?.status).toBe('blocked');
  });

  it('changes a PIN and disables an account, each reaching the change feed', async () => {
    const before = store.latestCursor();
    expect((await call(`/api/v1/admin/staff/${ref}/pin`, adminToken, { pin: '8642' })).status).toBe(
      200,
    );
    expect((await call(`/api/v1/admin/staff/${ref}/disable`, adminToken, {})).status).toBe(200);
    const kinds = store.changesSince(before, 10).map((c) => `${c.kind}:${c.key}`);
    expect(kinds).toEqual([`staff:${ref}`, `staff:${ref}`]);
    expect(staff.syncedFor(ref, 'v-riverside-leisure')?.status).toBe('disabled');
    expect(
      (await call('/api/v1/admin/staff/st-nobody/pin', adminToken, { pin: '8642' })).status,
    ).toBe(404);
  });
});

describe('clubcard staff', () => {
  it('adds staff, issues and blocks a staff card from the command line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clubcard-staff-'));
    let stdout = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      stdout += String(c);
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'clubcard', '--data-dir', dir, 'db', 'migrate'])).toBe(0);
      stdout = '';
      expect(
        await main([
          'node',
          'clubcard',
          '--data-dir',
          dir,
          'staff',
          'add',
          '--first-name',
          'Sam',
          '--all-venues',
        ]),
      ).toBe(0);
      const added = JSON.parse(stdout) as { staffRef: string; pin: string };
      expect(added.pin).toMatch(/^[0-9]{6}$/);
      const run = (...a: string[]): Promise<number> =>
        main(['node', 'clubcard', '--data-dir', dir, 'staff', ...a]);
      expect(await run('card', 'issue', '--staff', added.staffRef, '--uid', STAFF_UID)).toBe(0);
      expect(await run('card', 'block', '--uid', STAFF_UID)).toBe(0);
      stdout = '';
      expect(await run('list')).toBe(0);
      expect(JSON.parse(stdout)).toEqual([
        { staffRef: added.staffRef, firstName: 'Sam', venues: ['*'], status: 'active', cards: 0 },
      ]);
      expect(await run('card', 'issue', '--staff', added.staffRef, '--uid', 'XYZ')).toBe(2);
    } finally {
      out.mockRestore();
      err.mockRestore();
      process.exitCode = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
