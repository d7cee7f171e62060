import type { Period } from './london-time.js';
import { counterNameId } from './state.js';
import type {
  Amount,
  EarningRule,
  EarningTrigger,
  Eligibility,
  Expiry,
  GrantRule,
  Limit,
  OffPeak,
  RedemptionRule,
  SchemeDefinition,
  Streak,
  WardTarget,
} from './scheme.js';

/**
 * Scheme definitions compiled for speed: parsed instants, sets instead of arrays, rules
 * grouped by the event type that can trigger them, and the versions in force over time
 * precomputed as segments between consecutive validFrom/validTo instants.
 */

export interface CompiledLimit {
  period: Period;
  maxAmount: number | null;
  maxEvents: number | null;
}

/** Counter-name ids of one limit namespace (see counterNameId in state.ts). */
export interface CounterNames {
  /** Amount earned. */
  a: number;
  /** Events that earned. */
  n: number;
  /** Streak award given. */
  s: number;
  /** Allowance granted. */
  g: number;
}

export function counterNames(key: string): CounterNames {
  return {
    a: counterNameId(`${key}|a`),
    n: counterNameId(`${key}|n`),
    s: counterNameId(`${key}|s`),
    g: counterNameId(`${key}|g`),
  };
}

/** Counter-name id of a scheme's budget counter. */
export const BUDGET_COUNTER = counterNameId('b');

export interface CompiledTrigger {
  serviceKinds: ReadonlySet<string> | null;
  serviceIds: ReadonlySet<string> | null;
  venueIds: ReadonlySet<string> | null;
  venueTypes: ReadonlySet<string> | null;
}

export interface CompiledOffPeak {
  /** Day mask bit 0 = Monday; minutes of the London day, from inclusive, to exclusive. */
  windows: { mask: number; from: number; to: number }[];
  percent: number;
}

export interface CompiledEarningRule {
  /** `<scheme id>/<rule id>`: counter namespace, shared by every version of the scheme. */
  key: string;
  names: CounterNames;
  id: string;
  from: number;
  to: number;
  trigger: CompiledTrigger;
  eligibility: Eligibility | undefined;
  amount: Amount;
  offPeak: CompiledOffPeak | null;
  limits: CompiledLimit[];
  streak: Streak | undefined;
  expiry: Expiry;
  stop: boolean;
}

export interface CompiledGrant {
  key: string;
  names: CounterNames;
  rule: GrantRule;
  from: number;
  to: number;
  limits: CompiledLimit[];
  expiry: Expiry;
}

export interface CompiledRedemption {
  rule: RedemptionRule;
  from: number;
  to: number;
}

export interface CompiledWardTarget {
  key: string;
  /** Counter-name ids: progress and reward paid. */
  progress: number;
  paid: number;
  target: WardTarget;
  measures: ReadonlySet<string> | null;
  trigger: CompiledTrigger | null;
}

export interface CompiledScheme {
  def: SchemeDefinition;
  id: string;
  version: number;
  from: number;
  to: number;
  account: string;
  /** The time bank's own account (`timebank:<id>`). */
  bankAccount: string;
  /** Counter names of the scheme-wide per-resident limits. */
  limitNames: CounterNames;
  limits: CompiledLimit[];
  earning: { visit: CompiledEarningRule[]; session: CompiledEarningRule[] };
  wardTargets: {
    visit: CompiledWardTarget[];
    session: CompiledWardTarget[];
    'ward-contribution': CompiledWardTarget[];
  };
  grants: ReadonlyMap<string, CompiledGrant>;
  redemptions: ReadonlyMap<string, CompiledRedemption>;
}

interface Segment {
  list: readonly CompiledScheme[];
  byId: ReadonlyMap<string, CompiledScheme>;
  /** Only the schemes with earning rules or ward targets for visits / sessions. */
  visits: readonly CompiledScheme[];
  sessions: readonly CompiledScheme[];
}

export interface CompiledSchemes {
  readonly source: readonly SchemeDefinition[];
  /** Versions in force at an instant, one per scheme, in (priority, id) order. */
  inForce(t: number): readonly CompiledScheme[];
  /** The version of one scheme in force at an instant. */
  version(id: string, t: number): CompiledScheme | undefined;
  /** inForce(t), keeping only schemes that can act on a visit. */
  forVisits(t: number): readonly CompiledScheme[];
  /** inForce(t), keeping only schemes that can act on a session. */
  forSessions(t: number): readonly CompiledScheme[];
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function instant(s: string | undefined, fallback: number): number {
  return s === undefined ? fallback : Date.parse(s);
}

function minutes(hhmm: string): number {
  return Number.parseInt(hhmm.slice(0, 2), 10) * 60 + Number.parseInt(hhmm.slice(3, 5), 10);
}

function set<T extends string>(xs: readonly T[] | undefined): ReadonlySet<string> | null {
  return xs ? new Set<string>(xs) : null;
}

function compileTrigger(t: Omit<EarningTrigger, 'eventType'>): CompiledTrigger {
  return {
    serviceKinds: set(t.serviceKinds),
    serviceIds: set(t.serviceIds),
    venueIds: set(t.venueIds),
    venueTypes: set(t.venueTypes),
  };
}

function compileLimits(ls: readonly Limit[]): CompiledLimit[] {
  return ls.map((l) => ({
    period: l.period,
    maxAmount: l.maxAmount ?? null,
    maxEvents: l.maxEvents ?? null,
  }));
}

function compileOffPeak(o: OffPeak | undefined): CompiledOffPeak | null {
  if (!o) return null;
  return {
    percent: o.multiplierPercent,
    windows: o.windows.map((w) => ({
      mask: w.days.reduce((m, d) => m | (1 << DAY_NAMES.indexOf(d)), 0),
      from: minutes(w.from),
      to: minutes(w.to),
    })),
  };
}

function compileEarning(s: SchemeDefinition, r: EarningRule): CompiledEarningRule {
  return {
    key: `${s.id}/${r.id}`,
    names: counterNames(`${s.id}/${r.id}`),
    id: r.id,
    from: instant(r.validFrom, -Infinity),
    to: instant(r.validTo, Infinity),
    trigger: compileTrigger(r.trigger),
    eligibility: r.eligibility,
    amount: r.amount,
    offPeak: compileOffPeak(r.offPeak),
    limits: compileLimits(r.limits),
    streak: r.streak,
    expiry: r.expiry ?? s.expiry,
    stop: r.then === 'stop',
  };
}

export function compileScheme(s: SchemeDefinition): CompiledScheme {
  const earning = s.earning.map((r) => compileEarning(s, r));
  const wardTargets: CompiledScheme['wardTargets'] = {
    visit: [],
    session: [],
    'ward-contribution': [],
  };
  for (const w of s.wardTargets) {
    const key = `${s.id}/${w.id}`;
    const c: CompiledWardTarget = {
      key,
      progress: counterNameId(`${key}|p`),
      paid: counterNameId(`${key}|w`),
      target: w,
      measures: w.trigger.eventType === 'ward-contribution' ? new Set(w.trigger.measures) : null,
      trigger: w.trigger.eventType === 'ward-contribution' ? null : compileTrigger(w.trigger),
    };
    wardTargets[w.trigger.eventType].push(c);
  }
  return {
    def: s,
    id: s.id,
    version: s.version,
    from: Date.parse(s.validFrom),
    to: instant(s.validTo, Infinity),
    account: `scheme:${s.id}`,
    bankAccount: `timebank:${s.id}`,
    limitNames: counterNames(`${s.id}/*`),
    limits: compileLimits(s.limits),
    earning: {
      visit: earning.filter((_, i) => s.earning[i]?.trigger.eventType === 'visit'),
      session: earning.filter((_, i) => s.earning[i]?.trigger.eventType === 'session'),
    },
    wardTargets,
    grants: new Map(
      s.grants.map((g) => [
        g.id,
        {
          key: `${s.id}/${g.id}`,
          names: counterNames(`${s.id}/${g.id}`),
          rule: g,
          from: instant(g.validFrom, -Infinity),
          to: instant(g.validTo, Infinity),
          limits: g.kind === 'top-up' ? compileLimits(g.limits) : [],
          expiry: g.expiry ?? s.expiry,
        },
      ]),
    ),
    redemptions: new Map(
      s.redemption.rules.map((r) => [
        r.id,
        { rule: r, from: instant(r.validFrom, -Infinity), to: instant(r.validTo, Infinity) },
      ]),
    ),
  };
}

function byPriorityThenId(a: CompiledScheme, b: CompiledScheme): number {
  const pa = a.def.priority;
  const pb = b.def.priority;
  if (pa !== pb) return pa - pb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The version of each scheme in force at `t`: the highest version whose validFrom ≤ t, unless it has ended. */
function selectInForce(all: readonly CompiledScheme[], t: number): CompiledScheme[] {
  const best = new Map<string, CompiledScheme>();
  for (const c of all) {
    if (c.from > t) continue;
    const cur = best.get(c.id);
    if (!cur || c.version > cur.version) best.set(c.id, c);
  }
  return [...best.values()].filter((c) => c.to > t).sort(byPriorityThenId);
}

class CompiledSet implements CompiledSchemes {
  readonly source: readonly SchemeDefinition[];
  readonly #breaks: number[];
  readonly #segments: Segment[];
  #last = 0;

  constructor(source: readonly SchemeDefinition[]) {
    this.source = source;
    const all = source.map(compileScheme);
    const points = new Set<number>();
    for (const c of all) {
      points.add(c.from);
      if (Number.isFinite(c.to)) points.add(c.to);
    }
    this.#breaks = [-Infinity, ...[...points].sort((a, b) => a - b)];
    this.#segments = this.#breaks.map((b) => {
      const list = selectInForce(all, b);
      return {
        list,
        byId: new Map(list.map((c) => [c.id, c])),
        visits: list.filter((c) => c.earning.visit.length > 0 || c.wardTargets.visit.length > 0),
        sessions: list.filter(
          (c) => c.earning.session.length > 0 || c.wardTargets.session.length > 0,
        ),
      };
    });
  }

  #segment(t: number): Segment {
    const b = this.#breaks;
    let i = this.#last;
    if (!((b[i] as number) <= t && (i + 1 >= b.length || t < (b[i + 1] as number)))) {
      let lo = 0;
      let hi = b.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((b[mid] as number) <= t) lo = mid;
        else hi = mid - 1;
      }
      i = lo;
      this.#last = i;
    }
    return this.#segments[i] as Segment;
  }

  inForce(t: number): readonly CompiledScheme[] {
    return this.#segment(t).list;
  }

  version(id: string, t: number): CompiledScheme | undefined {
    return this.#segment(t).byId.get(id);
  }

  forVisits(t: number): readonly CompiledScheme[] {
    return this.#segment(t).visits;
  }

  forSessions(t: number): readonly CompiledScheme[] {
    return this.#segment(t).sessions;
  }
}

const cache = new WeakMap<readonly SchemeDefinition[], CompiledSchemes>();

/**
 * Compiles scheme versions once; cached per array, so callers that keep passing the
 * same array pay nothing. Pass the result to evaluate() to skip the lookup.
 */
export function compileSchemes(schemes: readonly SchemeDefinition[]): CompiledSchemes {
  let c = cache.get(schemes);
  if (!c) {
    c = new CompiledSet(schemes);
    cache.set(schemes, c);
  }
  return c;
}

export function isCompiled(s: readonly SchemeDefinition[] | CompiledSchemes): s is CompiledSchemes {
  return !Array.isArray(s);
}

/**
 * The scheme versions in force at an instant, one per scheme id, in evaluation order
 * (priority, then id): the highest version whose validFrom is not after the instant,
 * unless that version's validTo has passed.
 */
export function versionsInForce(
  schemes: readonly SchemeDefinition[],
  at: string,
): SchemeDefinition[] {
  return compileSchemes(schemes)
    .inForce(Date.parse(at))
    .map((c) => c.def);
}
