import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../protocol/events.js';
import { LedgerLineSchema, allBalances, type LedgerLine } from '../protocol/ledger.js';
import { compileSchemes, type CompiledSchemes } from './compile.js';
import { evaluate, evaluateEvent, sortCanonical, type EngineResult } from './engine.js';
import { loadExampleSchemes } from './example-schemes.js';
import {
  civilOfDay,
  dayOfCivil,
  londonDay,
  londonTime,
  periodCodeOf,
  startOfLondonDay,
  type Period,
} from './london-time.js';
import { rebase, reconcileLines } from './replay.js';
import { SchemeDefinitionSchema, type SchemeDefinition } from './scheme.js';
import { MemoryEngineState, canonicalJson, lotsOf } from './state.js';
import { RESIDENTS, contextOf, ev, testEventId, type At } from './test-world.js';

/**
 * Property tests of the engine's promises: double entry, determinism, order
 * independence (and the documented late-event rule where a limit or budget binds),
 * limits and budgets, exact expiry and oldest-first spending, and kiosk/backend
 * convergence. See README.md beside this file for the rules being tested.
 */

const EXAMPLES = loadExampleSchemes();
const EXAMPLES_C = compileSchemes(EXAMPLES);

/** The examples with budgets small enough to bind in a short scenario. */
const TIGHT_BUDGETS: Record<string, number> = {
  'youth-leisure-credit': 3000,
  'learning-points': 150,
  'living-credits': 80,
  'off-peak-leisure': 12,
  'prison-leaver-vouchers': 30000,
  'ward-recycling-target': 50000,
};
/** Per-minute amounts make limits land exactly on their boundaries often. */
const LIMIT_PROBE = SchemeDefinitionSchema.parse({
  id: 'limit-probe',
  version: 1,
  name: 'Limit probe',
  wallet: 'learning-points',
  validFrom: '2024-01-01T00:00:00Z',
  budget: { amount: 2000, period: 'month' },
  limits: [{ period: 'day', maxAmount: 150 }],
  earning: [
    {
      id: 'minutes',
      trigger: { eventType: 'session' },
      amount: { kind: 'per-minute', amount: 1, everyMinutes: 3 },
      limits: [
        { period: 'day', maxAmount: 60 },
        { period: 'week', maxAmount: 200, maxEvents: 6 },
        { period: 'month', maxEvents: 12 },
      ],
    },
    {
      id: 'visits',
      trigger: { eventType: 'visit', serviceKinds: ['leisure', 'library'] },
      amount: { kind: 'fixed', value: 25 },
      limits: [{ period: 'week', maxAmount: 100 }],
    },
  ],
});
const TIGHT = [
  ...EXAMPLES.map((s) =>
    s.budget && TIGHT_BUDGETS[s.id] !== undefined
      ? { ...s, budget: { ...s.budget, amount: TIGHT_BUDGETS[s.id] as number } }
      : s,
  ),
  LIMIT_PROBE,
];
const TIGHT_C = compileSchemes(TIGHT);

const T0 = Date.parse('2025-01-06T00:00:00Z');
/** Short enough that nothing in the examples expires and nothing is too late. */
const WINDOW_MINUTES = 40 * 24 * 60;
const KIOSKS = ['k-one', 'k-two', 'k-three'];

type Spec =
  | { kind: 'visit'; r: number; service: string; t: number; k: number }
  | { kind: 'session'; r: number; minutes: number; t: number; k: number }
  | { kind: 'allowance'; r: number; t: number }
  | { kind: 'top-up'; r: number; amount: number; approved: boolean; t: number; k: number }
  | { kind: 'redeem'; r: number; which: number; amount: number; t: number; k: number }
  | {
      kind: 'time';
      giver: number;
      receiver: number;
      minutes: number;
      t: number;
      k: number;
      delay: number;
      k2: number;
      by: 'receiver' | 'organiser';
      confirmed: boolean;
    }
  | { kind: 'ward'; r: number; ward: string; kg: number; t: number; k: number }
  | { kind: 'sweep'; r: number; t: number };

const r = fc.integer({ min: 0, max: RESIDENTS.length - 1 });
const t = fc.integer({ min: 0, max: WINDOW_MINUTES });
const k = fc.integer({ min: 0, max: KIOSKS.length - 1 });

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('visit' as const),
      r,
      service: fc.constantFrom(
        's-swim',
        's-gym',
        's-library',
        's-health-walk',
        's-gp-drop-in',
        's-music-tuition',
      ),
      t,
      k,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('session' as const),
      r,
      minutes: fc.integer({ min: 10, max: 300 }),
      t,
      k,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('allowance' as const), r, t }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('top-up' as const),
      r,
      amount: fc.integer({ min: 100, max: 30000 }),
      approved: fc.boolean(),
      t,
      k,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('redeem' as const),
      r,
      which: fc.integer({ min: 0, max: 4 }),
      amount: fc.integer({ min: 100, max: 8000 }),
      t,
      k,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      giver: r,
      receiver: r,
      minutes: fc.integer({ min: 15, max: 480 }),
      t,
      k,
      delay: fc.integer({ min: 1, max: 3 * 24 * 60 }),
      k2: k,
      by: fc.constantFrom('receiver' as const, 'organiser' as const),
      confirmed: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('ward' as const),
      r,
      ward: fc.constantFrom('w-north', 'w-central'),
      kg: fc.integer({ min: 1, max: 400 }),
      t,
      k,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const), r, t }) },
);

function redeemFields(which: number, amount: number) {
  switch (which) {
    case 0:
      return {
        wallet: 'living-credit',
        schemeId: 'living-credits',
        ruleId: 'free-swim',
        amount: 60,
        serviceId: 's-swim',
      };
    case 1:
      return {
        wallet: 'leisure-credit',
        schemeId: 'youth-leisure-credit',
        ruleId: 'swim',
        amount: 250,
        serviceId: 's-swim',
      };
    case 2:
      return {
        wallet: 'learning-points',
        schemeId: 'learning-points',
        ruleId: 'bus-day-ticket',
        amount: 150,
        outletId: 'o-city-buses',
      };
    case 3:
      return {
        wallet: 'voucher:prison-leaver-vouchers',
        schemeId: 'prison-leaver-vouchers',
        ruleId: 'work-clothes',
        amount,
        outletId: 'o-work-wear',
      };
    default:
      return {
        wallet: 'time-credit',
        schemeId: 'time-bank',
        ruleId: 'skills-workshop',
        amount: 120,
        approvedBy: 'st-organiser',
      };
  }
}

interface Item {
  t: number;
  kiosk: string;
  make: (a: At, idOf: (key: string) => string) => EngineEvent;
  key?: string;
}

/** Turns specs into events with ids, per-kiosk gap-free sequences, in time order. */
function build(specs: readonly Spec[]): EngineEvent[] {
  const items: Item[] = [];
  specs.forEach((s, i) => {
    const at = T0 + s.t * 60_000;
    const res = (n: number) => RESIDENTS[n] as string;
    switch (s.kind) {
      case 'visit':
        items.push({
          t: at,
          kiosk: KIOSKS[s.k] as string,
          make: (a) => ev.visit(a, res(s.r), s.service),
        });
        break;
      case 'session':
        items.push({
          t: at,
          kiosk: KIOSKS[s.k] as string,
          make: (a) => ev.session(a, res(s.r), 's-adult-learning', s.minutes),
        });
        break;
      case 'allowance':
        items.push({
          t: at,
          kiosk: 'k-council',
          make: (a) => ev.allowance(a, res(s.r), 'youth-leisure-credit', 'monthly-allowance'),
        });
        break;
      case 'top-up':
        items.push({
          t: at,
          kiosk: KIOSKS[s.k] as string,
          make: (a) =>
            ev.grant(
              a,
              res(s.r),
              'prison-leaver-vouchers',
              'release-grant',
              s.amount,
              s.approved ? 'st-officer' : null,
            ),
        });
        break;
      case 'redeem':
        items.push({
          t: at,
          kiosk: KIOSKS[s.k] as string,
          make: (a) => ev.redemption(a, res(s.r), redeemFields(s.which, s.amount)),
        });
        break;
      case 'time': {
        const key = `time-${i}`;
        items.push({
          t: at,
          kiosk: KIOSKS[s.k] as string,
          key,
          make: (a) => ev.timeRecord(a, res(s.giver), res(s.receiver), s.minutes),
        });
        if (s.confirmed) {
          items.push({
            t: at + s.delay * 60_000,
            kiosk: KIOSKS[s.k2] as string,
            make: (a, idOf) => ev.timeConfirm(a, idOf(key), res(s.giver), res(s.receiver), s.by),
          });
        }
        break;
      }
      case 'ward':
        items.push({
          t: at,
          kiosk: KIOSKS[s.k] as string,
          make: (a) => ev.ward(a, res(s.r), s.ward, 'recycling-kg', s.kg),
        });
        break;
      case 'sweep':
        items.push({ t: at, kiosk: 'k-council', make: (a) => ev.sweep(a, res(s.r)) });
        break;
    }
  });
  items.sort((a, b) => a.t - b.t);
  const ids = new Map<string, string>();
  items.forEach((it, i) => {
    if (it.key) ids.set(it.key, testEventId(i + 1));
  });
  const seqs = new Map<string, number>();
  return items.map((it, i) => {
    const seq = (seqs.get(it.kiosk) ?? 0) + 1;
    seqs.set(it.kiosk, seq);
    return it.make(
      { at: new Date(it.t).toISOString(), kiosk: it.kiosk, seq, n: i + 1 },
      (key) => ids.get(key) as string,
    );
  });
}

/** A deterministic permutation from a seed (Fisher–Yates over a small PRNG). */
function permute<T>(xs: readonly T[], seed: number): T[] {
  const out = xs.slice();
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

interface Run {
  state: MemoryEngineState;
  lines: LedgerLine[];
  results: { event: EngineEvent; result: EngineResult; linesBefore: number }[];
}

function runAll(events: readonly EngineEvent[], schemes: CompiledSchemes): Run {
  const state = new MemoryEngineState();
  const lines: LedgerLine[] = [];
  const results: Run['results'] = [];
  for (const e of events) {
    const result = evaluate(state, e, contextOf(e), schemes);
    state.apply(result.stateDelta);
    results.push({ event: e, result, linesBefore: lines.length });
    lines.push(...result.lines);
  }
  return { state, lines, results };
}

function balancesJson(lines: readonly LedgerLine[]): string {
  const out: Record<string, Record<string, number>> = {};
  for (const [account, wallets] of allBalances(lines)) {
    const w: Record<string, number> = {};
    for (const [wallet, amount] of wallets) if (amount !== 0) w[wallet] = amount;
    if (Object.keys(w).length > 0) out[account] = w;
  }
  return canonicalJson(out);
}

const BINDING = new Set(['limit-reached', 'budget-exhausted', 'credit-limit-reached', 'too-late']);

/** Did a limit or budget bind? (Ward budgets say so in a flag: no resident is involved.) */
function binds(run: Run): boolean {
  return run.results.some(
    (x) =>
      x.result.messages.some((m) => BINDING.has(m.code)) ||
      x.result.flags.some((f) => BINDING.has(f.code)),
  );
}

/** When a line's movement "happened" for limits: its event, or for time given the record. */
function lineTimes(events: readonly EngineEvent[]): (l: LedgerLine) => number {
  const byId = new Map(events.map((e) => [e.id as string, e]));
  return (l) => {
    const e = byId.get(l.eventId) as EngineEvent;
    if (l.ruleId === 'time-given' && e.type === 'time-confirm') {
      const rec = byId.get(e.recordId);
      if (rec) return Date.parse(rec.occurredAt);
    }
    return Date.parse(e.occurredAt);
  };
}

function schemeAt(
  schemes: readonly SchemeDefinition[],
  id: string,
  at: number,
): SchemeDefinition | undefined {
  return compileSchemes(schemes).version(id, at)?.def;
}

/** Earning lines (resident credited by a scheme or time bank) that count towards limits. */
function isEarning(l: LedgerLine): boolean {
  return (
    l.to.startsWith('resident:') &&
    (l.from.startsWith('scheme:') || l.from.startsWith('timebank:')) &&
    l.ruleId !== 'expiry'
  );
}

/** Sum and event count of earning lines matching `pick`, in `period` of `at`. */
function used(
  lines: readonly LedgerLine[],
  timeOf: (l: LedgerLine) => number,
  period: Period,
  at: number,
  pick: (l: LedgerLine) => boolean,
) {
  const pk = periodCodeOf(period, londonTime(at));
  let sum = 0;
  const events = new Set<string>();
  for (const l of lines) {
    if (!isEarning(l) || !pick(l)) continue;
    if (periodCodeOf(period, londonTime(timeOf(l))) !== pk) continue;
    sum += l.amount;
    events.add(l.eventId);
  }
  return { sum, count: events.size };
}

function earningRuleIds(s: SchemeDefinition): Set<string> {
  return new Set([...s.earning.map((r) => r.id), 'time-given']);
}

/** Every limit and budget in `schemes` holds over `lines`. */
function assertLimitsHold(
  events: readonly EngineEvent[],
  lines: readonly LedgerLine[],
  schemes: readonly SchemeDefinition[],
): void {
  const timeOf = lineTimes(events);
  for (const l of lines) {
    if (!isEarning(l)) continue;
    const at = timeOf(l);
    const s = schemeAt(schemes, l.schemeId, at);
    if (!s) continue;
    const mine = (x: LedgerLine) => x.to === l.to && x.schemeId === l.schemeId;
    const rule =
      s.earning.find((x) => x.id === l.ruleId) ?? s.grants.find((x) => x.id === l.ruleId);
    const ruleLimits = rule && 'limits' in rule ? rule.limits : [];
    for (const lim of ruleLimits) {
      const u = used(lines, timeOf, lim.period, at, (x) => mine(x) && x.ruleId === l.ruleId);
      if (lim.maxAmount !== undefined) expect(u.sum).toBeLessThanOrEqual(lim.maxAmount);
      if (lim.maxEvents !== undefined) expect(u.count).toBeLessThanOrEqual(lim.maxEvents);
    }
    if (earningRuleIds(s).has(l.ruleId)) {
      const ids = earningRuleIds(s);
      for (const lim of s.limits) {
        const u = used(lines, timeOf, lim.period, at, (x) => mine(x) && ids.has(x.ruleId));
        if (lim.maxAmount !== undefined) expect(u.sum).toBeLessThanOrEqual(lim.maxAmount);
        if (lim.maxEvents !== undefined) expect(u.count).toBeLessThanOrEqual(lim.maxEvents);
      }
    }
  }
  // Budgets: what each scheme paid out, per budget period.
  const paid = new Map<string, number>();
  for (const l of lines) {
    if (!l.from.startsWith('scheme:') || l.ruleId === 'expiry') continue;
    const at = timeOf(l);
    const s = schemeAt(schemes, l.schemeId, at);
    if (!s?.budget) continue;
    const cal = londonTime(at);
    const key = `${s.id}|${s.budget.period === 'total' ? 't' : s.budget.period === 'year' ? cal.yearCode : cal.monthCode}`;
    const sum = (paid.get(key) ?? 0) + l.amount;
    paid.set(key, sum);
    expect(sum, key).toBeLessThanOrEqual(s.budget.amount);
  }
}

/**
 * The documented late-event rule, checked against the ledger as it stood when each
 * event arrived: a refusal for a limit or budget is justified (the amount would not
 * have fitted), and nothing ever leaves a resident except by their own spending, time
 * they received, or expiry.
 */
function assertLateRule(
  events: readonly EngineEvent[],
  run: Run,
  schemes: readonly SchemeDefinition[],
): void {
  const timeOf = lineTimes(events);
  for (const { event, result, linesBefore } of run.results) {
    const before = run.lines.slice(0, linesBefore);
    for (const m of result.messages) {
      if (m.code !== 'limit-reached' && m.code !== 'budget-exhausted') continue;
      const record =
        event.type === 'time-confirm' ? events.find((e) => e.id === event.recordId) : undefined;
      const at = Date.parse(
        m.ruleId === 'time-given' && record ? record.occurredAt : event.occurredAt,
      );
      const s = schemeAt(schemes, m.schemeId as string, at) as SchemeDefinition;
      const amount = m.amount as number;
      const mine = (x: LedgerLine) =>
        x.to === `resident:${m.residentRef}` && x.schemeId === m.schemeId;
      if (m.code === 'limit-reached') {
        const ids = earningRuleIds(s);
        const pick =
          m.limitScope === 'scheme'
            ? (x: LedgerLine) => mine(x) && ids.has(x.ruleId)
            : (x: LedgerLine) => mine(x) && x.ruleId === m.ruleId;
        const u = used(before.concat(result.lines), timeOf, m.period as Period, at, pick);
        const fits =
          (m.limit === undefined || u.sum + amount <= m.limit) &&
          (m.maxEvents === undefined || u.count + 1 <= m.maxEvents);
        expect(fits, `${event.id} ${JSON.stringify(m)}`).toBe(false);
      } else {
        const b = s.budget;
        if (!b) throw new Error('budget refusal without a budget');
        const cal = londonTime(at);
        const key =
          b.period === 'total' ? null : b.period === 'year' ? cal.yearCode : cal.monthCode;
        let paid = 0;
        for (const l of before.concat(result.lines)) {
          if (l.from !== `scheme:${s.id}` || l.ruleId === 'expiry') continue;
          const c = londonTime(timeOf(l));
          if (key === null || (b.period === 'year' ? c.yearCode : c.monthCode) === key)
            paid += l.amount;
        }
        expect(paid + amount).toBeGreaterThan(b.amount);
      }
    }
  }
  // All or nothing: what an event earns from a rule is the rule's full amount (as a
  // stateless preview computes it), never a part cut down to fit a limit or budget.
  for (const { event, result } of run.results) {
    if (
      event.type !== 'visit' &&
      event.type !== 'session' &&
      event.type !== 'grant' &&
      event.type !== 'allowance'
    )
      continue;
    const preview = evaluateEvent(event, contextOf(event), schemes);
    for (const l of result.lines) {
      if (!isEarning(l)) continue;
      const s = schemeAt(schemes, l.schemeId, Date.parse(event.occurredAt));
      if (s?.earning.find((x) => x.id === l.ruleId)?.streak) continue;
      const full = preview.lines.find((x) => x.schemeId === l.schemeId && x.ruleId === l.ruleId);
      expect(l.amount, `${event.id} ${l.ruleId}`).toBe(full?.amount);
    }
  }
  for (const l of run.lines) {
    if (!l.from.startsWith('resident:')) continue;
    const ok =
      l.to.startsWith('outlet:') ||
      l.to.startsWith('timebank:') ||
      (l.ruleId === 'expiry' && (l.to.startsWith('scheme:') || l.to.startsWith('timebank:')));
    expect(ok, JSON.stringify(l)).toBe(true);
  }
}

function assertDoubleEntry(run: Run): void {
  for (const l of run.lines) {
    expect(Number.isSafeInteger(l.amount) && l.amount > 0).toBe(true);
    expect(l.from).not.toBe(l.to);
  }
  const totals = new Map<string, number>();
  for (const wallets of allBalances(run.lines).values()) {
    for (const [w, a] of wallets) totals.set(w, (totals.get(w) ?? 0) + a);
  }
  for (const total of totals.values()) expect(total).toBe(0);
  // Every resident's balance is their open lots less their overdraft.
  const balances = allBalances(run.lines);
  for (const [ref, rs] of run.state.residents) {
    const wallets = balances.get(`resident:${ref}`) ?? new Map<string, number>();
    const fromState = new Map<string, number>();
    for (const lot of lotsOf(rs))
      fromState.set(lot.wallet, (fromState.get(lot.wallet) ?? 0) + lot.amount);
    for (const [w, od] of rs.overdraft ?? []) fromState.set(w, (fromState.get(w) ?? 0) - od);
    for (const w of new Set([...wallets.keys(), ...fromState.keys()])) {
      expect(wallets.get(w) ?? 0, `${ref} ${w}`).toBe(fromState.get(w) ?? 0);
    }
  }
}

const scenario = fc.array(specArb, { minLength: 1, maxLength: 40 });

describe('engine properties', () => {
  it('every movement sums to zero, lines are valid, balances match the state', () => {
    fc.assert(
      fc.property(scenario, fc.integer(), (specs, seed) => {
        const events = permute(build(specs), seed);
        const run = runAll(events, TIGHT_C);
        assertDoubleEntry(run);
        for (const l of run.lines.slice(0, 50))
          expect(LedgerLineSchema.safeParse(l).success).toBe(true);
        for (const x of run.results) x.result.lines.forEach((l, i) => expect(l.index).toBe(i));
      }),
      { numRuns: 200 },
    );
  });

  it('two replays of the same arrival sequence give byte-identical ledgers and state', () => {
    fc.assert(
      fc.property(scenario, fc.integer(), (specs, seed) => {
        const events = permute(build(specs), seed);
        const a = runAll(events, EXAMPLES_C);
        const b = runAll(structuredClone(events), compileSchemes(loadExampleSchemes()));
        expect(JSON.stringify(b.lines)).toBe(JSON.stringify(a.lines));
        expect(canonicalJson(b.state.snapshot())).toBe(canonicalJson(a.state.snapshot()));
        expect(JSON.stringify(b.results.map((x) => [x.result.messages, x.result.flags]))).toBe(
          JSON.stringify(a.results.map((x) => [x.result.messages, x.result.flags])),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('persisting the state as JSON mid-stream and carrying on changes nothing', () => {
    fc.assert(
      fc.property(scenario, fc.integer(), fc.nat(), (specs, seed, cut) => {
        const events = permute(build(specs), seed);
        const whole = runAll(events, EXAMPLES_C);
        const at = cut % (events.length + 1);
        const first = runAll(events.slice(0, at), EXAMPLES_C);
        // What the backend stores and loads back: one JSON row per slice.
        const restored = MemoryEngineState.fromSnapshot(
          JSON.parse(JSON.stringify(first.state.snapshot())),
        );
        const lines = [...first.lines];
        for (const e of events.slice(at)) {
          const r = evaluate(restored, e, contextOf(e), EXAMPLES_C);
          restored.apply(r.stateDelta);
          lines.push(...r.lines);
        }
        expect(JSON.stringify(lines)).toBe(JSON.stringify(whole.lines));
        expect(canonicalJson(restored.snapshot())).toBe(canonicalJson(whole.state.snapshot()));
      }),
      { numRuns: 100 },
    );
  });

  it('any arrival order gives the canonical balances when no limit or budget binds; otherwise the late-event rule holds', () => {
    let free = 0;
    let bound = 0;
    fc.assert(
      fc.property(
        fc.array(specArb, { minLength: 1, maxLength: 60, size: 'medium' }),
        fc.integer(),
        fc.boolean(),
        (specs, seed, tight) => {
          const schemes = tight ? TIGHT : EXAMPLES;
          const compiled = tight ? TIGHT_C : EXAMPLES_C;
          const events = build(specs);
          const canonical = runAll(sortCanonical(events), compiled);
          const arrived = runAll(permute(events, seed), compiled);
          if (!binds(canonical) && !binds(arrived)) {
            free++;
            expect(balancesJson(arrived.lines)).toBe(balancesJson(canonical.lines));
          } else bound++;
          assertLateRule(events, arrived, schemes);
          assertLateRule(events, canonical, schemes);
        },
      ),
      { numRuns: 400 },
    );
    console.log(
      `permutations: ${free} with nothing binding, ${bound} with a limit or budget binding`,
    );
    // Both branches must actually be exercised.
    expect(free).toBeGreaterThan(30);
    expect(bound).toBeGreaterThan(30);
  });

  it('limits and budgets are never exceeded, in any arrival order', () => {
    fc.assert(
      fc.property(
        fc.array(specArb, { minLength: 20, maxLength: 80 }),
        fc.integer(),
        (specs, seed) => {
          const events = build(specs);
          const run = runAll(permute(events, seed), TIGHT_C);
          assertLimitsHold(events, run.lines, TIGHT);
        },
      ),
      { numRuns: 150 },
    );
  });
});

// ── expiry and oldest-first spending against an independent model ─────────────

const LOT_SCHEMES = (
  [
    ['lot-a', { kind: 'after-days', days: 10 }],
    ['lot-b', { kind: 'after-days', days: 30 }],
    ['lot-c', { kind: 'end-of-period', period: 'month', extra: 0 }],
    ['lot-d', { kind: 'never' }],
  ] as const
).map(([id, expiry]) =>
  SchemeDefinitionSchema.parse({
    id,
    version: 1,
    name: id,
    wallet: 'living-credit',
    validFrom: '2024-01-01T00:00:00Z',
    expiry,
    grants: [{ kind: 'top-up', id: 'give', maxAmount: 1000, approval: 'none' }],
    redemption: {
      offlineAllowance: 0,
      rules: [{ id: 'spend', item: 'anything', price: { kind: 'open', min: 1, max: 100000 } }],
    },
  }),
);

function modelExpiry(scheme: string, at: number): number | null {
  const day = londonDay(at);
  if (scheme === 'lot-a') return startOfLondonDay(day + 11);
  if (scheme === 'lot-b') return startOfLondonDay(day + 31);
  if (scheme === 'lot-c') {
    const c = civilOfDay(day);
    return startOfLondonDay(
      c.month === 12 ? dayOfCivil(c.year + 1, 1, 1) : dayOfCivil(c.year, c.month + 1, 1),
    );
  }
  return null;
}

type LotOp =
  | { kind: 'give'; scheme: string; amount: number; t: number }
  | { kind: 'spend'; amount: number; t: number }
  | { kind: 'sweep'; t: number };

const lotOp: fc.Arbitrary<LotOp> = fc.oneof(
  fc.record({
    kind: fc.constant('give' as const),
    scheme: fc.constantFrom('lot-a', 'lot-b', 'lot-c', 'lot-d'),
    amount: fc.integer({ min: 1, max: 1000 }),
    t: fc.integer({ min: 0, max: 120 * 24 * 60 }),
  }),
  fc.record({
    kind: fc.constant('spend' as const),
    amount: fc.integer({ min: 1, max: 1500 }),
    t: fc.integer({ min: 0, max: 120 * 24 * 60 }),
  }),
  fc.record({ kind: fc.constant('sweep' as const), t: fc.integer({ min: 0, max: 120 * 24 * 60 }) }),
);

describe('expiry and oldest-first spending', () => {
  it('are exact (against an independent model)', () => {
    const ref = 'r-pensioner3';
    fc.assert(
      fc.property(fc.array(lotOp, { minLength: 1, maxLength: 40 }), (ops) => {
        const sorted = ops.map((o, i) => ({ ...o, i })).sort((a, b) => a.t - b.t || a.i - b.i);
        const events = sorted.map((o, i) => {
          const a: At = {
            at: new Date(T0 + o.t * 60_000).toISOString(),
            seq: i + 1,
            kiosk: 'k-one',
          };
          if (o.kind === 'give') return ev.grant(a, ref, o.scheme, 'give', o.amount, null);
          if (o.kind === 'spend')
            return ev.redemption(a, ref, {
              wallet: 'living-credit',
              schemeId: 'lot-a',
              ruleId: 'spend',
              amount: o.amount,
            });
          return ev.sweep(a, ref);
        });
        const run = runAll(events, compileSchemes(LOT_SCHEMES));

        // The model.
        const lots = new Map<string, { scheme: string; e: number | null; amount: number }>();
        let od = 0;
        let clock = 0;
        const expired = new Map<string, number>();
        const spends: [string, number][][] = [];
        for (const o of sorted) {
          const at = T0 + o.t * 60_000;
          if (at > clock) {
            for (const [key, lot] of lots) {
              if (lot.e !== null && lot.e <= at) {
                expired.set(lot.scheme, (expired.get(lot.scheme) ?? 0) + lot.amount);
                lots.delete(key);
              }
            }
            clock = at;
          }
          if (o.kind === 'give') {
            const pay = Math.min(od, o.amount);
            od -= pay;
            if (o.amount > pay) {
              const e = modelExpiry(o.scheme, at);
              const key = `${o.scheme}|${e}`;
              const cur = lots.get(key);
              lots.set(key, { scheme: o.scheme, e, amount: (cur?.amount ?? 0) + o.amount - pay });
            }
          } else if (o.kind === 'spend') {
            const order = [...lots.entries()].sort(
              ([, x], [, y]) =>
                (x.e ?? Number.MAX_SAFE_INTEGER) - (y.e ?? Number.MAX_SAFE_INTEGER) ||
                (x.scheme < y.scheme ? -1 : 1),
            );
            let rest = o.amount;
            const out: [string, number][] = [];
            for (const [key, lot] of order) {
              if (rest === 0) break;
              const take = Math.min(rest, lot.amount);
              rest -= take;
              const last = out[out.length - 1];
              if (last && last[0] === lot.scheme) last[1] += take;
              else out.push([lot.scheme, take]);
              if (take === lot.amount) lots.delete(key);
              else lot.amount -= take;
            }
            if (rest > 0) {
              out.push(['lot-a', rest]);
              od += rest;
            }
            spends.push(out);
          }
        }

        const engineExpired = new Map<string, number>();
        const engineSpends: [string, number][][] = [];
        for (const { event, result } of run.results) {
          for (const l of result.lines) {
            if (l.ruleId === 'expiry')
              engineExpired.set(l.schemeId, (engineExpired.get(l.schemeId) ?? 0) + l.amount);
          }
          if (event.type === 'redemption')
            engineSpends.push(
              result.lines.filter((l) => l.ruleId === 'spend').map((l) => [l.schemeId, l.amount]),
            );
        }
        expect(engineSpends).toEqual(spends);
        expect(Object.fromEntries(engineExpired)).toEqual(Object.fromEntries(expired));
        const rs = run.state.resident(ref);
        expect(rs?.overdraft?.get('living-credit') ?? 0).toBe(od);
        const engineLots = lotsOf(rs)
          .map((l) => `${l.schemeId}|${l.expiresAt}|${l.amount}`)
          .sort();
        const modelLots = [...lots.values()].map((l) => `${l.scheme}|${l.e}|${l.amount}`).sort();
        expect(engineLots).toEqual(modelLots);
      }),
      { numRuns: 300 },
    );
  });
});

// ── kiosk provisional answers converge to the backend's ─────────────────────────

type Action = { kind: 'tap'; kiosk: number } | { kind: 'sync'; kiosk: number };

describe('kiosk and backend', () => {
  it("the kiosk's provisional balances and state converge to the backend's after sync", () => {
    fc.assert(
      fc.property(
        scenario,
        fc.array(
          fc.record({
            kind: fc.constantFrom('tap' as const, 'tap' as const, 'sync' as const),
            kiosk: k,
          }),
          { maxLength: 120 },
        ),
        (specs, actions: Action[]) => {
          const events = build(specs);
          const backend = new MemoryEngineState();
          const backendLines: LedgerLine[] = [];
          const settle = (e: EngineEvent) => {
            const res = evaluate(backend, e, contextOf(e), EXAMPLES_C);
            backend.apply(res.stateDelta);
            backendLines.push(...res.lines);
            return { id: e.id as string, lines: res.lines };
          };
          const kiosks = KIOSKS.map((id) => ({
            id,
            queue: events.filter((e) => e.kioskId === id),
            state: new MemoryEngineState(),
            pending: [] as EngineEvent[],
            provisional: [] as LedgerLine[],
            settled: [] as LedgerLine[],
            pulled: '',
          }));
          // Council events go straight to the backend, in time order with everything else.
          const council = events.filter((e) => e.kioskId === 'k-council');
          const flushCouncil = (until: string) => {
            while (council.length > 0 && (council[0] as EngineEvent).occurredAt <= until)
              settle(council.shift() as EngineEvent);
          };
          const sync = (kk: (typeof kiosks)[number]) => {
            const results = kk.pending.map(settle);
            const rec = reconcileLines(kk.provisional, results);
            expect(rec.provisional).toEqual([]);
            kk.settled.push(...rec.settled);
            kk.pending = [];
            kk.provisional = [];
            kk.state = rebase(kk.state, backend.snapshot(), [], contextOf, EXAMPLES_C).state;
            kk.pulled = balancesJson(backendLines);
          };
          const tap = (kk: (typeof kiosks)[number]) => {
            const e = kk.queue.shift();
            if (!e) return;
            flushCouncil(e.occurredAt);
            const res = evaluate(kk.state, e, contextOf(e), EXAMPLES_C);
            kk.state.apply(res.stateDelta);
            kk.pending.push(e);
            kk.provisional.push(...res.lines);
          };
          for (const a of actions) {
            const kk = kiosks[a.kiosk] as (typeof kiosks)[number];
            if (a.kind === 'tap') tap(kk);
            else sync(kk);
          }
          for (const kk of kiosks) while (kk.queue.length > 0) tap(kk);
          flushCouncil('9999');
          for (const kk of kiosks) sync(kk);
          for (const kk of kiosks) sync(kk); // a final pull sees everyone's events
          const truth = canonicalJson(backend.snapshot());
          for (const kk of kiosks) {
            expect(canonicalJson(kk.state.snapshot())).toBe(truth);
            // What the kiosk shows: pulled balances plus provisional lines (none left).
            expect(kk.pulled).toBe(balancesJson(backendLines));
            expect(balancesJson(kk.provisional)).toBe('{}');
          }
          // Every kiosk kept exactly the backend's lines for its own events.
          const own = (id: string) =>
            backendLines.filter((l) => events.find((e) => e.id === l.eventId)?.kioskId === id);
          for (const kk of kiosks) expect(kk.settled).toEqual(own(kk.id));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a kiosk working alone offline gets exactly the backend’s answer', () => {
    fc.assert(
      fc.property(scenario, (specs) => {
        const events = build(specs).filter(
          (e) => e.kioskId === 'k-one' || e.kioskId === 'k-council',
        );
        const kiosk = runAll(events, EXAMPLES_C);
        const backend = runAll(events, EXAMPLES_C);
        const rec = reconcileLines(
          kiosk.lines,
          backend.results.map((x) => ({ id: x.event.id, lines: x.result.lines })),
        );
        expect(rec.changed).toEqual([]);
      }),
      { numRuns: 50 },
    );
  });
});
