import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import {
  HEADER,
  cardHashOf,
  generateSigningKeys,
  newEventId,
  privateKeyFromB64,
  signRequest,
} from '@clubcard/shared';
import { openBackendDb } from '@clubcard/backend/db/open';
import { KioskStore } from '@clubcard/terminal/store/kiosk-store';
import { createTestSystem, type TestSystem } from '../support/system.js';

/**
 * Kiosks in the field run old code. These tests pin what protocol v1 kiosks send and
 * accept, and the columns of every table that is synced, so that the backend and the
 * kiosk store only ever change additively.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The pull page exactly as a protocol-1 kiosk validates it (frozen copy). */
const V1PullPage = z.object({
  protocol: z.number().int(),
  kioskId: z.string(),
  cursor: z.number().int().min(0),
  nextCursor: z.number().int().min(0),
  hasMore: z.boolean(),
  serverTime: z.number().int(),
  cards: z.array(
    z.object({
      cardHash: z.string().regex(/^[0-9a-f]{64}$/),
      residentRef: z.string(),
      status: z.enum(['active', 'blocked']),
      firstName: z.string().nullable(),
      ageBand: z.string(),
    }),
  ),
  balances: z.array(
    z.object({ residentRef: z.string(), wallet: z.string(), amount: z.number().int() }),
  ),
  schemes: z.array(z.object({ id: z.string(), version: z.number().int(), wallet: z.string() })),
  services: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string() })),
  venues: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      allowUidOnly: z.boolean(),
      services: z.array(z.string()),
    }),
  ),
});

let sys: TestSystem | null = null;
afterEach(async () => {
  await sys?.cleanup();
  sys = null;
});

describe('an older kiosk against a newer backend', () => {
  it('pushes protocol-1 visits and reads protocol-1 pull pages', async () => {
    sys = await createTestSystem();
    const backend = await sys.startBackend();
    const k = sys.demo.kiosks[0]!;
    const keys = generateSigningKeys();
    // Provisioned as a v1 kiosk was: one-time code, own key pair.
    const reg = await fetch(`${backend.url}/api/v1/kiosks/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protocol: 1, code: k.code, publicKey: keys.publicKey }),
    });
    expect(reg.status).toBe(201);
    const hashKey = ((await reg.json()) as { cardHashKey: string }).cardHashKey;
    const r = sys.demo.residents[0]!;
    // Byte for byte what a v1 kiosk sends: no field it did not know.
    const body = JSON.stringify({
      protocol: 1,
      kioskId: k.kioskId,
      events: [
        {
          id: newEventId(),
          kioskId: k.kioskId,
          seq: 1,
          occurredAt: new Date().toISOString(),
          venueId: k.venueId,
          type: 'visit',
          cardHash: cardHashOf(hashKey, r.uid),
          residentRef: r.residentRef,
          serviceId: k.serviceId,
          auth: { method: 'uid-only', keyVersion: null, counter: null },
          assisted: false,
        },
      ],
    });
    const key = privateKeyFromB64(keys.privateKey);
    const push = await fetch(`${backend.url}/api/v1/sync/push`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signRequest(key, k.kioskId, 'POST', '/api/v1/sync/push', body),
      },
      body,
    });
    expect(push.status).toBe(200);
    const answer = (await push.json()) as { ackSeq: number; results: { status: string }[] };
    expect(answer.results[0]!.status).toBe('accepted');
    expect(answer.ackSeq).toBe(1);

    const path = '/api/v1/sync/pull?cursor=0';
    const pull = await fetch(`${backend.url}${path}`, {
      headers: signRequest(key, k.kioskId, 'GET', path, ''),
    });
    expect(pull.status).toBe(200);
    expect(pull.headers.get(HEADER.signature)).toBeTruthy();
    const page = V1PullPage.safeParse(await pull.json());
    expect(page.success).toBe(true);
    expect(page.data?.cards.length).toBeGreaterThan(0);
  });
});

/** Tables whose rows are synced between kiosks and the backend. */
const SYNCED = {
  backend: [
    'cards',
    'residents',
    'services',
    'venues',
    'venue_services',
    'schemes',
    'card_counters',
    'events',
    'ledger_lines',
  ],
  kiosk: [
    'cards',
    'balances',
    'services',
    'venues',
    'schemes',
    'outbox',
    'ledger_lines',
    'card_counters',
  ],
};

function columns(db: Database.Database, tables: string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const t of tables) {
    const cols = db.prepare(`PRAGMA table_info(${t})`).all() as { name: string; type: string }[];
    out[t] = Object.fromEntries(cols.map((c) => [c.name, c.type]));
  }
  return out;
}

describe('synced tables change additively only', () => {
  it('keeps every column of the recorded schema snapshot, with its type', () => {
    const backend = openBackendDb(':memory:');
    const kiosk = new KioskStore(':memory:');
    const now = {
      backend: columns(backend, SYNCED.backend),
      kiosk: columns(kiosk.db, SYNCED.kiosk),
    };
    backend.close();
    kiosk.close();
    const file = join(FIXTURES, 'synced-schema-snapshot.json');
    // Record a new snapshot (after an additive change) with UPDATE_SCHEMA_SNAPSHOT=1.
    if (process.env.UPDATE_SCHEMA_SNAPSHOT === '1' || !existsSync(file)) {
      writeFileSync(file, `${JSON.stringify(now, null, 2)}\n`);
    }
    expect(existsSync(file)).toBe(true);
    const snapshot = JSON.parse(readFileSync(file, 'utf8')) as typeof now;
    for (const side of ['backend', 'kiosk'] as const) {
      for (const [table, cols] of Object.entries(snapshot[side])) {
        expect(Object.keys(now[side]), `${side} table ${table} was removed`).toContain(table);
        for (const [col, type] of Object.entries(cols)) {
          expect(
            now[side][table]?.[col],
            `${side} ${table}.${col} was removed or changed type`,
          ).toBe(type);
        }
      }
    }
  });
});
