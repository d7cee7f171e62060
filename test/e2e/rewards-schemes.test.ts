import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SimulatedReader } from '@clubcard/hardware';
import { cardHashOf, newEventId, type KioskEvent } from '@clubcard/shared';
import { loadExampleSchemes } from '@clubcard/shared/rules/example-schemes';
import { openBackend } from '@clubcard/backend/app';
import { SqliteEngineState } from '@clubcard/backend/rewards/engine-state';
import { RewardsService } from '@clubcard/backend/rewards/rewards-service';
import { ContextBuilder } from '@clubcard/backend/rewards/context';
import { redemptionOptions } from '@clubcard/shared/rules/redemption-options';
import type { TapOutcome } from '@clubcard/terminal/bridge/kiosk-bridge';
import { outletPost } from '../support/outlet.js';
import type { RunningKiosk } from '@clubcard/terminal/main';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { tapAndAnswerOrNull } from '../support/tap.js';

let sys: TestSystem | null = null;
afterEach(async () => {
  await sys?.cleanup();
  sys = null;
});

/** Reward administration on the backend database (another connection, as the CLI does). */
function rewards<T>(s: TestSystem, fn: (r: RewardsService, key: string) => T): T {
  const { store, secrets } = openBackend(s.backendConfig, join(s.dir, 'backend.sqlite'));
  try {
    return fn(
      new RewardsService(store, new SqliteEngineState(store.db), secrets.cardHashKey),
      secrets.cardHashKey,
    );
  } finally {
    store.close();
  }
}

/** Taps a card and waits for the kiosk's answer (shown once the tap is on disk). */
async function tap(kiosk: RunningKiosk, uid: string): Promise<void> {
  if (!(kiosk.reader instanceof SimulatedReader)) throw new Error('expected the simulated reader');
  await tapAndAnswerOrNull(kiosk.core, kiosk.reader, uid);
}

describe('example schemes end to end', () => {
  it('credits living credits and the quiet-hours bonus provisionally at the kiosk, then authoritatively; a monthly youth allowance is spent on a swim through the kiosk push path', async () => {
    const s = (sys = await createTestSystem());
    rewards(s, (r) => r.publish(loadExampleSchemes()));
    await s.startBackend();
    const kiosk = await s.startKiosk(0);
    await kiosk.sync.syncOnce();
    const asha = s.demo.residents[0]!;

    const outcomes: TapOutcome[] = [];
    kiosk.core.on('message', (m) => {
      if (m.type === 'outcome') outcomes.push(m.outcome);
    });
    await tap(kiosk, asha.uid);
    const o = outcomes[0]!;
    expect(o.kind).toBe('recorded');
    if (o.kind !== 'recorded') return;
    const provisional = o.earned
      .filter((e) => e.wallet === 'living-credit')
      .reduce((sum, e) => sum + e.amount, 0);
    // demo living-credit 10 + living-credits active-session 10 + quiet-hours 2 (6 off-peak)
    expect([22, 26]).toContain(provisional);

    await kiosk.sync.syncOnce();
    expect(kiosk.store.balancesFor(asha.residentRef)).toEqual([
      { wallet: 'living-credit', amount: provisional, provisional: 0 },
    ]);

    // The scheduler: one allowance per eligible resident (Asha is the only 13–19) per month.
    const run = rewards(s, (r) => r.grants.runAllowances());
    expect(run.issued).toBe(1);
    expect(run.credited).toBe(1500);
    expect(rewards(s, (r) => r.grants.runAllowances()).issued).toBe(0);

    await kiosk.sync.syncOnce();
    expect(kiosk.store.balancesFor(asha.residentRef)).toContainEqual({
      wallet: 'leisure-credit',
      amount: 1500,
      provisional: 0,
    });

    // What the kiosk shows: the options at this swimming pool, from the backend's state.
    const options = rewards(s, (r, key) => {
      void r;
      const { store } = openBackend(s.backendConfig, join(s.dir, 'backend.sqlite'));
      try {
        const ctx = new ContextBuilder(store);
        const profile = ctx.profile(asha.residentRef)!;
        void key;
        return redemptionOptions(
          new SqliteEngineState(store.db),
          {
            residentRef: asha.residentRef,
            at: Date.now(),
            venueId: 'v-riverside-leisure',
            serviceId: 's-swim',
            outletId: null,
            offline: null,
          },
          {
            service: { id: 's-swim', kind: 'leisure' },
            venue: { id: 'v-riverside-leisure', type: 'leisure-centre', ward: 'riverside' },
            outlet: { id: 'v-riverside-leisure', categories: [] },
            profiles: { [asha.residentRef]: profile },
          },
          store.listSchemes(),
        );
      } finally {
        store.close();
      }
    });
    const swim = options.find((x) => x.schemeId === 'youth-leisure-credit' && x.ruleId === 'swim');
    expect(swim).toMatchObject({
      ok: true,
      price: { kind: 'fixed', amount: 250 },
      available: 1500,
    });
    expect(options.some((x) => x.ruleId === 'gym')).toBe(false); // not at the pool

    // The redemption event the kiosk sends, through the real outbox and push.
    const cardHash = rewards(s, (_r, key) => cardHashOf(key, asha.uid));
    kiosk.store.appendEvent((seq) => ({
      event: {
        id: newEventId(),
        kioskId: 'k-riverside-1',
        seq,
        occurredAt: new Date().toISOString(),
        venueId: 'v-riverside-leisure',
        type: 'redemption',
        cardHash,
        residentRef: asha.residentRef,
        serviceId: 's-swim',
        auth: { method: 'simulated', keyVersion: null, counter: null },
        wallet: 'leisure-credit',
        schemeId: 'youth-leisure-credit',
        ruleId: 'swim',
        outletId: null,
        quantity: 1,
        amount: 250,
        offline: false,
        approvedBy: null,
      } as KioskEvent,
      lines: [],
    }));
    await kiosk.sync.syncOnce();
    expect(kiosk.store.stats().backlog).toBe(0);
    expect(kiosk.store.rejectedEvents()).toEqual([]);
    expect(kiosk.store.balancesFor(asha.residentRef)).toContainEqual({
      wallet: 'leisure-credit',
      amount: 1250,
      provisional: 0,
    });
  });

  it('tops up fresh-start vouchers with staff approval and redeems them at an outlet by card and by voucher code, refusing what the rules forbid with clear codes', async () => {
    const s = (sys = await createTestSystem());
    const ben = s.demo.residents[1]!;
    const { apiKey, code } = rewards(s, (r) => {
      r.publish(loadExampleSchemes());
      r.outlets.add({ id: 'o-work-wear', name: 'Work Wear', categories: ['work-clothes'] });
      r.outlets.add({ id: 'o-corner-shop', name: 'Corner shop', categories: ['groceries'] });
      // Not eligible yet: refused, nothing recorded.
      expect(() =>
        r.grants.topUp({
          residentRef: ben.residentRef,
          schemeId: 'prison-leaver-vouchers',
          grantId: 'release-grant',
          amount: 10000,
          approvedBy: 'st-probation',
        }),
      ).toThrow(expect.objectContaining({ code: 'grant-refused' }) as Error);
      r.grants.setAttributes({
        residentRef: ben.residentRef,
        add: { categories: ['prison-leaver'] },
      });
      expect(() =>
        r.grants.topUp({
          residentRef: ben.residentRef,
          schemeId: 'prison-leaver-vouchers',
          grantId: 'release-grant',
          amount: 10000,
        }),
      ).toThrow(expect.objectContaining({ code: 'grant-refused' }) as Error);
      const t = r.grants.topUp({
        residentRef: ben.residentRef,
        schemeId: 'prison-leaver-vouchers',
        grantId: 'release-grant',
        amount: 10000,
        approvedBy: 'st-probation',
      });
      expect(t).toMatchObject({ wallet: 'voucher:prison-leaver-vouchers', amount: 10000 });
      return {
        apiKey: r.outlets.issueKey('o-work-wear').apiKey,
        code: r.grants.issueVoucherCode(ben.residentRef).voucherCode,
      };
    });
    const shopKey = rewards(s, (r) => r.outlets.issueKey('o-corner-shop').apiKey);
    const cardHash = rewards(s, (_r, key) => cardHashOf(key, ben.uid));
    const b = await s.startBackend();

    const ok = await outletPost(b.url, apiKey, {
      cardHash,
      category: 'work-clothes',
      amount: 3000,
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      outletId: 'o-work-wear',
      ruleId: 'work-clothes',
      amount: 3000,
      balance: 7000,
      flags: [],
    });
    const byCode = await outletPost(b.url, apiKey, {
      voucherCode: code.toLowerCase(),
      category: 'work-clothes',
      amount: 2000,
    });
    expect(byCode.status).toBe(201);
    expect(byCode.body).toMatchObject({ balance: 5000 });

    const refusals = [
      await outletPost(b.url, apiKey, { cardHash, category: 'accommodation', amount: 1000 }),
      await outletPost(b.url, apiKey, { cardHash, category: 'work-clothes', amount: 6000 }),
      await outletPost(b.url, shopKey, { cardHash, category: 'groceries', amount: 500 }),
      await outletPost(b.url, `olk_${'x'.repeat(43)}`, {
        cardHash,
        category: 'work-clothes',
        amount: 100,
      }),
      await outletPost(b.url, apiKey, { cardHash, category: 'work-clothes' }),
      await outletPost(b.url, apiKey, {
        cardHash: 'ab'.repeat(32),
        category: 'work-clothes',
        amount: 100,
      }),
    ];
    expect(refusals.map((r) => [r.status, (r.body.error as { code: string }).code])).toEqual([
      [409, 'redemption-refused'],
      [409, 'redemption-refused'],
      [409, 'redemption-refused'],
      [401, 'bad-outlet-key'],
      [400, 'validation-failed'],
      [404, 'card-not-registered'],
    ]);
    const reasons = (r: { body: Record<string, unknown> }): string[] =>
      ((r.body.error as { details: { reasons: { code: string }[] } }).details.reasons ?? []).map(
        (x) => x.code,
      );
    expect(reasons(refusals[0]!)).toEqual(['not-here']);
    expect(reasons(refusals[1]!)).toEqual(['insufficient-balance']);

    // The outlet's pseudo-kiosk has its own gap-free sequence; nothing refused was recorded.
    const seqs = rewards(s, () => {
      const { store } = openBackend(s.backendConfig, join(s.dir, 'backend.sqlite'));
      try {
        return store.db
          .prepare("SELECT seq FROM events WHERE kiosk_id = 'k-outlet-work-wear' ORDER BY seq")
          .pluck()
          .all();
      } finally {
        store.close();
      }
    });
    expect(seqs).toEqual([1, 2]);
  });
});
