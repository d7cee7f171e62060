import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { pino } from 'pino';
import {
  HEADER,
  PROTOCOL_VERSION,
  PushResponseSchema,
  generateSigningKeys,
  newEventId,
  privateKeyFromB64,
  publicKeyFromB64,
  signRequest,
  verifyBytes,
  cardHashOf,
  type KioskEvent,
} from '@clubcard/shared';
import type { KeyObject } from 'node:crypto';
import { AdminService } from '../admin/admin-service.js';
import { backendServices, createApp } from '../app.js';
import { loadBackendConfig } from '../config.js';
import { openBackendDb } from '../db/open.js';
import { loadDemoData, type DemoLoadResult } from '../demo/demo-data.js';
import { ensureBackendSecrets, type BackendSecrets } from '../keys.js';
import { SqliteBackendStore } from '../store/sqlite-store.js';

interface Ctx {
  store: SqliteBackendStore;
  secrets: BackendSecrets;
  demo: DemoLoadResult;
  server: Server;
  url: string;
  keys: { kioskId: string; key: KioskKey }[];
  now: { t: number };
}
type KioskKey = KeyObject;

let ctx: Ctx;

beforeEach(async () => {
  const store = new SqliteBackendStore(openBackendDb(':memory:'));
  const secrets = ensureBackendSecrets(store);
  const demo = loadDemoData(new AdminService(store, secrets));
  const keys = demo.kiosks.map((k) => {
    const kp = generateSigningKeys();
    store.activateKiosk(k.kioskId, kp.publicKey, Date.now());
    return { kioskId: k.kioskId, key: privateKeyFromB64(kp.privateKey) };
  });
  const now = { t: Date.now() };
  const app = createApp({
    config: loadBackendConfig({ overrides: { dataDir: '/tmp', logLevel: 'silent' } }),
    store,
    secrets,
    log: pino({ level: 'silent' }),
    now: () => now.t,
    ...backendServices(store, secrets, () => now.t),
  });
  const server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  ctx = { store, secrets, demo, server, url, keys, now };
});

afterEach(async () => {
  await new Promise<void>((r) => {
    ctx.server.close(() => r());
    ctx.server.closeAllConnections();
  });
  ctx.store.close();
});

function visit(seq: number, residentIndex = 0, kiosk = 0): KioskEvent {
  const r = ctx.demo.residents[residentIndex]!;
  const k = ctx.demo.kiosks[kiosk]!;
  return {
    id: newEventId(),
    kioskId: k.kioskId as KioskEvent['kioskId'],
    seq,
    occurredAt: new Date().toISOString(),
    venueId: k.venueId as KioskEvent['venueId'],
    type: 'visit',
    cardHash: cardHashOf(ctx.secrets.cardHashKey, r.uid),
    residentRef: r.residentRef as KioskEvent['residentRef'],
    serviceId: k.serviceId as KioskEvent['serviceId'],
    auth: { method: 'simulated', keyVersion: null, counter: null },
    assisted: false,
  };
}

interface Sent {
  status: number;
  json: unknown;
  headers: Headers;
  text: string;
}

async function send(
  body: string,
  headers: Record<string, string>,
  path = '/api/v1/sync/push',
): Promise<Sent> {
  const res = await fetch(`${ctx.url}${path}`, {
    method: path.includes('push') ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json', ...headers },
    ...(path.includes('push') ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as unknown, headers: res.headers, text };
}

function signedPush(
  events: unknown[],
  kiosk = 0,
  as?: string,
): { body: string; headers: Record<string, string> } {
  const k = ctx.keys[kiosk]!;
  const body = JSON.stringify({ protocol: PROTOCOL_VERSION, kioskId: as ?? k.kioskId, events });
  return {
    body,
    headers: signRequest(k.key, k.kioskId, 'POST', '/api/v1/sync/push', body, ctx.now.t),
  };
}

function counts(): { events: number; lines: number } {
  const db = ctx.store.db;
  return {
    events: (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n,
    lines: (db.prepare('SELECT COUNT(*) AS n FROM ledger_lines').get() as { n: number }).n,
  };
}

function errorCode(s: Sent): string {
  return (s.json as { error: { code: string } }).error.code;
}

describe('POST /api/v1/sync/push', () => {
  it('accepts events, credits the ledger, acknowledges the sequence and signs its answer', async () => {
    const p = signedPush([visit(1), visit(2, 1)]);
    const r = await send(p.body, p.headers);
    expect(r.status).toBe(200);
    const answer = PushResponseSchema.parse(r.json);
    expect(answer.ackSeq).toBe(2);
    expect(answer.results.map((x) => x.status)).toEqual(['accepted', 'accepted']);
    expect(answer.results[0]!.lines[0]).toMatchObject({ wallet: 'living-credit', amount: 10 });
    const sig = r.headers.get(HEADER.signature)!;
    expect(verifyBytes(publicKeyFromB64(ctx.secrets.publicKeyB64), r.text, sig)).toBe(true);
    expect(counts()).toEqual({ events: 2, lines: 2 });
  });

  it('answers a retried push (new nonce, same events) with duplicates and counts them once', async () => {
    const events = [visit(1), visit(2)];
    const first = signedPush(events);
    expect((await send(first.body, first.headers)).status).toBe(200);
    const retry = signedPush(events);
    const r = await send(retry.body, retry.headers);
    expect(r.status).toBe(200);
    const answer = PushResponseSchema.parse(r.json);
    expect(answer.results.map((x) => x.status)).toEqual(['duplicate', 'duplicate']);
    expect(answer.results[0]!.lines).toHaveLength(1); // the authoritative lines come back again
    expect(answer.ackSeq).toBe(2);
    expect(counts()).toEqual({ events: 2, lines: 2 });
  });

  it('refuses a byte-identical replayed request and stores nothing from it', async () => {
    const p = signedPush([visit(1)]);
    expect((await send(p.body, p.headers)).status).toBe(200);
    ctx.store.db.prepare('DELETE FROM ledger_lines').run();
    ctx.store.db.prepare('DELETE FROM events').run();
    const r = await send(p.body, p.headers);
    expect(r.status).toBe(409);
    expect(errorCode(r)).toBe('replayed-request');
    expect(counts()).toEqual({ events: 0, lines: 0 });
  });

  it('refuses a bad signature, a tampered body, another kiosk’s id, a stale timestamp, a malformed and an oversized body', async () => {
    const good = signedPush([visit(1)]);

    const badSig = await send(good.body, {
      ...good.headers,
      [HEADER.signature]: Buffer.alloc(64, 7).toString('base64'),
    });
    expect([badSig.status, errorCode(badSig)]).toEqual([401, 'bad-signature']);

    const tampered = await send(good.body.replace('"seq":1', '"seq":7'), good.headers);
    expect([tampered.status, errorCode(tampered)]).toEqual([401, 'bad-signature']);

    const other = signedPush([visit(1, 0, 1)], 0, ctx.demo.kiosks[1]!.kioskId);
    const r3 = await send(other.body, other.headers);
    expect([r3.status, errorCode(r3)]).toEqual([403, 'kiosk-mismatch']);

    const foreignEvent = signedPush([visit(1, 0, 1)], 0);
    const r4 = await send(foreignEvent.body, foreignEvent.headers);
    expect([r4.status, errorCode(r4)]).toEqual([403, 'kiosk-mismatch']);

    const k = ctx.keys[0]!;
    const staleBody = JSON.stringify({ protocol: 1, kioskId: k.kioskId, events: [visit(1)] });
    const stale = signRequest(
      k.key,
      k.kioskId,
      'POST',
      '/api/v1/sync/push',
      staleBody,
      ctx.now.t - 3_600_000,
    );
    const r5 = await send(staleBody, stale);
    expect([r5.status, errorCode(r5)]).toEqual([401, 'clock-skew']);
    expect(
      (r5.json as { error: { details: { serverTime: number } } }).error.details.serverTime,
    ).toBe(ctx.now.t);

    const malformed = '{"protocol":1,"kioskId":';
    const r6 = await send(
      malformed,
      signRequest(k.key, k.kioskId, 'POST', '/api/v1/sync/push', malformed, ctx.now.t),
    );
    expect([r6.status, errorCode(r6)]).toEqual([400, 'bad-request']);

    const wrongTypes = JSON.stringify({ protocol: '1', kioskId: k.kioskId, events: 'lots' });
    const r7 = await send(
      wrongTypes,
      signRequest(k.key, k.kioskId, 'POST', '/api/v1/sync/push', wrongTypes, ctx.now.t),
    );
    expect([r7.status, errorCode(r7)]).toEqual([400, 'validation-failed']);

    const huge = JSON.stringify({
      protocol: 1,
      kioskId: k.kioskId,
      events: [{ pad: 'x'.repeat(1_100_000) }],
    });
    const r8 = await send(
      huge,
      signRequest(k.key, k.kioskId, 'POST', '/api/v1/sync/push', huge, ctx.now.t),
    );
    expect([r8.status, errorCode(r8)]).toEqual([413, 'payload-too-large']);

    const unsigned = await send(good.body, {});
    expect([unsigned.status, errorCode(unsigned)]).toEqual([401, 'bad-signature']);

    expect(counts()).toEqual({ events: 0, lines: 0 });
  });

  it('settles an invalid event as rejected with a code, so the next events are not stalled', async () => {
    const bad = { ...visit(1), serviceId: 's-nonexistent' };
    const notAnEvent = { id: newEventId(), seq: 2, type: 'teleport' };
    const p = signedPush([bad, notAnEvent, visit(3)]);
    const r = await send(p.body, p.headers);
    const answer = PushResponseSchema.parse(r.json);
    expect(answer.results.map((x) => [x.status, x.code ?? null])).toEqual([
      ['rejected', 'unknown-service'],
      ['rejected', 'validation-failed'],
      ['accepted', null],
    ]);
    expect(answer.ackSeq).toBe(3);
    expect(counts()).toEqual({ events: 3, lines: 1 });
  });

  it('acknowledges only the contiguous prefix when a sequence number is missing', async () => {
    const p = signedPush([visit(1), visit(3)]);
    const answer = PushResponseSchema.parse((await send(p.body, p.headers)).json);
    expect(answer.ackSeq).toBe(1);
    const q = signedPush([visit(2)]);
    expect(PushResponseSchema.parse((await send(q.body, q.headers)).json).ackSeq).toBe(3);
  });

  it('rejects a second event carrying a SUN counter already used for that card, even from another kiosk', async () => {
    const sun = (seq: number, kiosk: number, counter: number): KioskEvent => ({
      ...visit(seq, 0, kiosk),
      auth: { method: 'sun', keyVersion: 1, counter },
    });
    const a = signedPush([sun(1, 0, 7)]);
    expect(PushResponseSchema.parse((await send(a.body, a.headers)).json).results[0]!.status).toBe(
      'accepted',
    );
    const b = signedPush([sun(1, 1, 7), sun(2, 1, 6)], 1);
    const answer = PushResponseSchema.parse((await send(b.body, b.headers)).json);
    // 7 again is a copy; 6 is an older genuine read that merely arrived late.
    expect(answer.results.map((r) => [r.status, r.code ?? null])).toEqual([
      ['rejected', 'card-replayed'],
      ['accepted', null],
    ]);
    expect(answer.ackSeq).toBe(2);
    expect(
      ctx.store.highestCounter(cardHashOf(ctx.secrets.cardHashKey, ctx.demo.residents[0]!.uid)),
    ).toBe(7);
  });

  it('accepts late offline redemptions, letting the balance go negative within the allowance and flagging it', async () => {
    const services = backendServices(ctx.store, ctx.secrets);
    services.admin.publishScheme({
      id: 'living-credit',
      version: 2,
      name: 'Living credits for active sessions',
      wallet: 'living-credit',
      validFrom: '2020-01-02T00:00:00Z',
      earning: [
        {
          id: 'leisure-visit',
          trigger: { eventType: 'visit', serviceKinds: ['leisure'] },
          amount: { kind: 'fixed', value: 10 },
        },
      ],
      redemption: {
        offlineAllowance: 50,
        rules: [
          {
            id: 'free-swim',
            item: 'swim-session',
            price: { kind: 'fixed', amount: 40 },
            where: { serviceIds: ['s-swim'] },
          },
        ],
      },
    });
    const redeem = (seq: number, amount: number): KioskEvent =>
      ({
        ...visit(seq),
        type: 'redemption',
        wallet: 'living-credit',
        schemeId: 'living-credit' as never,
        ruleId: 'free-swim' as never,
        outletId: null,
        quantity: 1,
        amount,
        offline: true,
        approvedBy: null,
      }) as KioskEvent;
    // One visit earns 10; two offline swims spend 80: 70 short, beyond the 50 allowance.
    const p = signedPush([visit(1), redeem(2, 40), redeem(3, 40)]);
    const answer = PushResponseSchema.parse((await send(p.body, p.headers)).json);
    expect(answer.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(answer.ackSeq).toBe(3);
    const ref = ctx.demo.residents[0]!.residentRef;
    expect(ctx.store.balancesOf(`resident:${ref}`)).toEqual([
      { wallet: 'living-credit', amount: -70 },
    ]);
    const flags = ctx.store.db.prepare('SELECT code FROM engine_flags ORDER BY id').all() as {
      code: string;
    }[];
    expect(flags.map((f) => f.code)).toEqual(expect.arrayContaining(['overdrawn']));
    expect(flags.map((f) => f.code)).toContain('overdrawn-beyond-allowance');
  });

  it('refuses a revoked kiosk', async () => {
    ctx.store.setKioskStatus(ctx.keys[0]!.kioskId, 'revoked');
    const p = signedPush([visit(1)]);
    const r = await send(p.body, p.headers);
    expect([r.status, errorCode(r)]).toEqual([403, 'kiosk-revoked']);
  });
});

describe('GET /api/v1/sync/pull', () => {
  it('pages the change feed by cursor, signed by the backend', async () => {
    const k = ctx.keys[0]!;
    const path = '/api/v1/sync/pull?cursor=0';
    const r = await send('', signRequest(k.key, k.kioskId, 'GET', path, '', ctx.now.t), path);
    expect(r.status).toBe(200);
    const page = r.json as {
      cards: unknown[];
      venues: unknown[];
      schemes: unknown[];
      nextCursor: number;
      hasMore: boolean;
    };
    expect(page.cards.length).toBe(7);
    expect(page.venues.length).toBe(3);
    expect(page.schemes.length).toBe(1);
    expect(page.hasMore).toBe(false);
    expect(
      verifyBytes(
        publicKeyFromB64(ctx.secrets.publicKeyB64),
        r.text,
        r.headers.get(HEADER.signature)!,
      ),
    ).toBe(true);
    const path2 = `/api/v1/sync/pull?cursor=${page.nextCursor}`;
    const r2 = await send('', signRequest(k.key, k.kioskId, 'GET', path2, '', ctx.now.t), path2);
    expect((r2.json as { cards: unknown[] }).cards).toEqual([]);
  });

  it('sends a kiosk the balances of the residents its venue has seen, and no others', async () => {
    const p = signedPush([visit(1, 0), visit(2, 1)]);
    expect((await send(p.body, p.headers)).status).toBe(200);
    const pullAs = async (kiosk: number): Promise<string[]> => {
      const k = ctx.keys[kiosk]!;
      const path = '/api/v1/sync/pull?cursor=0';
      const r = await send('', signRequest(k.key, k.kioskId, 'GET', path, '', ctx.now.t), path);
      return (r.json as { balances: { residentRef: string }[] }).balances
        .map((b) => b.residentRef)
        .sort();
    };
    const seenAtRiverside = [
      ctx.demo.residents[0]!.residentRef,
      ctx.demo.residents[1]!.residentRef,
    ].sort();
    expect(await pullAs(0)).toEqual(seenAtRiverside);
    expect(await pullAs(1)).toEqual([]); // the library has seen nobody yet
  });

  it('refuses a pull signed for a different path', async () => {
    const k = ctx.keys[0]!;
    const headers = signRequest(
      k.key,
      k.kioskId,
      'GET',
      '/api/v1/sync/pull?cursor=0',
      '',
      ctx.now.t,
    );
    const r = await send('', headers, '/api/v1/sync/pull?cursor=5');
    expect([r.status, errorCode(r)]).toEqual([401, 'bad-signature']);
  });
});
