import type {
  EarningTrigger,
  Eligibility,
  Limit,
  SchemeStructure,
  ServiceKind,
  VenueType,
} from './scheme.js';

/** Service kinds that are health services: the fairness guardrails apply to them. */
export const HEALTH_SERVICE_KINDS: readonly ServiceKind[] = ['gp-drop-in'];
/** Venue types that host health services. */
export const HEALTH_VENUE_TYPES: readonly VenueType[] = ['health-centre'];

/** Categories starting with this prefix are health data. */
export const HEALTH_CATEGORY_PREFIX = 'health:';

type Path = (string | number)[];
interface Problem {
  path: Path;
  message: string;
}

/**
 * Can a trigger match a visit to a health service? Conservative: unless the trigger
 * names service kinds and none of them is a health kind, it might.
 */
export function triggerCanMatchHealth(trigger: {
  eventType: string;
  serviceKinds?: readonly ServiceKind[] | undefined;
}): boolean {
  if (trigger.eventType !== 'visit' && trigger.eventType !== 'session') return false;
  if (!trigger.serviceKinds) return true;
  return trigger.serviceKinds.some((k) => HEALTH_SERVICE_KINDS.includes(k));
}

const TAKES_AWAY =
  "Credits may leave a resident's wallet only when they spend them or when what they were given expires as announced; " +
  'no rule may take credits away for something the resident did not do.';
const HEALTH_OWN_BENEFIT =
  'Health-service visits may only ever benefit the resident who made them, and never lower anything they are entitled to.';

function checkWindow(
  from: string | undefined,
  to: string | undefined,
  path: Path,
  out: Problem[],
): void {
  if (from !== undefined && to !== undefined && Date.parse(to) <= Date.parse(from)) {
    out.push({ path: [...path, 'validTo'], message: 'validTo must be after validFrom' });
  }
}

function checkLimits(limits: readonly Limit[], path: Path, out: Problem[]): void {
  const seen = new Set<string>();
  limits.forEach((l, i) => {
    if (seen.has(l.period)) {
      out.push({
        path: [...path, i, 'period'],
        message: `two limits for the same period (${l.period}): merge them into one`,
      });
    }
    seen.add(l.period);
  });
}

function checkEligibility(
  e: Eligibility | undefined,
  path: Path,
  what: string,
  out: Problem[],
): void {
  const health = e?.categories?.noneOf?.filter((c) => c.startsWith(HEALTH_CATEGORY_PREFIX)) ?? [];
  if (health.length > 0) {
    out.push({
      path: [...path, 'eligibility', 'categories', 'noneOf'],
      message: `Unfair: ${what} excludes residents because of health data (${health.join(', ')}). ${HEALTH_OWN_BENEFIT}`,
    });
  }
}

function healthHint(trigger: EarningTrigger): string {
  return trigger.serviceKinds
    ? ''
    : ' (it names no service kinds, so it could match a GP drop-in: list serviceKinds without "gp-drop-in")';
}

/**
 * Everything wrong with a structurally valid scheme version: consistency problems and
 * fairness problems. Fairness messages start with "Unfair:" and say which guardrail is
 * broken and why:
 *
 *  1. no rule may take credits away for something a resident did not do (no negative
 *     amounts anywhere: earning, grants, ward rewards);
 *  2. nothing may lower an entitlement because of a health visit (no negative or
 *     below-100% amounts on rules that can match one; no exclusions on health data);
 *  3. health-service visits may trigger nothing but the resident's own benefit (they may
 *     not count towards a ward target or any other collective reward).
 */
export function schemeProblems(s: SchemeStructure): Problem[] {
  const out: Problem[] = [];

  checkWindow(s.validFrom, s.validTo, [], out);
  checkLimits(s.limits, ['limits'], out);

  if (s.wallet.startsWith('voucher:') && s.wallet !== `voucher:${s.id}`) {
    out.push({
      path: ['wallet'],
      message: `a voucher scheme has its own wallet: use "voucher:${s.id}"`,
    });
  }
  if (s.timeBank && s.wallet !== 'time-credit') {
    out.push({
      path: ['wallet'],
      message: 'a time bank keeps time credits: wallet must be "time-credit"',
    });
  }
  if (s.wardTargets.length > 0 && s.wallet !== 'neighbourhood-budget') {
    out.push({
      path: ['wallet'],
      message: 'ward targets fund neighbourhood budgets: wallet must be "neighbourhood-budget"',
    });
  }
  if (s.wallet === 'neighbourhood-budget' && (s.earning.length > 0 || s.grants.length > 0)) {
    out.push({
      path: ['wallet'],
      message: 'a neighbourhood budget belongs to wards: it cannot pay residents',
    });
  }

  const ids = new Map<string, string>();
  const claim = (id: string, path: Path) => {
    const prev = ids.get(id);
    if (prev)
      out.push({
        path,
        message: `rule id "${id}" is already used by ${prev}: rule ids are unique within a scheme`,
      });
    else ids.set(id, path.join('.'));
  };

  s.earning.forEach((r, i) => {
    const path: Path = ['earning', i];
    claim(r.id, [...path, 'id']);
    checkWindow(r.validFrom, r.validTo, path, out);
    checkLimits(r.limits, [...path, 'limits'], out);
    checkEligibility(r.eligibility, path, `earning rule "${r.id}"`, out);
    const health = triggerCanMatchHealth(r.trigger);
    const value = r.amount.kind === 'fixed' ? r.amount.value : r.amount.amount;
    if (value === 0)
      out.push({
        path: [...path, 'amount'],
        message: 'an amount of 0 earns nothing: remove the rule',
      });
    if (value < 0) {
      out.push({
        path: [...path, 'amount'],
        message: `Unfair: earning rule "${r.id}" takes credits away (amount ${value}). ${TAKES_AWAY}`,
      });
      if (health) {
        out.push({
          path: [...path, 'trigger'],
          message: `Unfair: earning rule "${r.id}" lowers what a resident gets when they use a health service${healthHint(r.trigger)}. ${HEALTH_OWN_BENEFIT}`,
        });
      }
    }
    if (r.offPeak && r.offPeak.multiplierPercent < 100 && health) {
      out.push({
        path: [...path, 'offPeak', 'multiplierPercent'],
        message: `Unfair: earning rule "${r.id}" pays less than its full amount (${r.offPeak.multiplierPercent}%) at some hours and can match health-service visits${healthHint(r.trigger)}. ${HEALTH_OWN_BENEFIT}`,
      });
    }
    if (r.amount.kind === 'per-minute' && r.trigger.eventType !== 'session') {
      out.push({
        path: [...path, 'amount'],
        message: 'per-minute amounts need a duration: trigger on "session" events',
      });
    }
    if (r.streak && r.amount.kind !== 'fixed') {
      out.push({ path: [...path, 'amount'], message: 'a streak achievement pays a fixed amount' });
    }
    r.offPeak?.windows.forEach((w, j) => {
      if (w.to <= w.from) {
        out.push({
          path: [...path, 'offPeak', 'windows', j],
          message: `window ${w.from}–${w.to} is empty: "to" must be after "from"`,
        });
      }
    });
  });

  s.redemption.rules.forEach((r, i) => {
    const path: Path = ['redemption', 'rules', i];
    claim(r.id, [...path, 'id']);
    checkWindow(r.validFrom, r.validTo, path, out);
    checkEligibility(r.eligibility, path, `redemption rule "${r.id}"`, out);
    if (r.price.kind === 'open' && r.price.min > r.price.max) {
      out.push({ path: [...path, 'price'], message: 'price.min must not exceed price.max' });
    }
  });

  s.grants.forEach((g, i) => {
    const path: Path = ['grants', i];
    claim(g.id, [...path, 'id']);
    checkWindow(g.validFrom, g.validTo, path, out);
    checkEligibility(g.eligibility, path, `grant "${g.id}"`, out);
    const value = g.kind === 'allowance' ? g.amount : g.maxAmount;
    if (value <= 0) {
      out.push({
        path: [...path, g.kind === 'allowance' ? 'amount' : 'maxAmount'],
        message:
          value === 0
            ? 'a grant of 0 gives nothing: remove it'
            : `Unfair: grant "${g.id}" takes credits away (amount ${value}). ${TAKES_AWAY}`,
      });
    }
    if (g.kind === 'top-up') checkLimits(g.limits, [...path, 'limits'], out);
  });

  s.wardTargets.forEach((w, i) => {
    const path: Path = ['wardTargets', i];
    claim(w.id, [...path, 'id']);
    if (w.reward <= 0) {
      out.push({
        path: [...path, 'reward'],
        message:
          w.reward === 0
            ? 'a reward of 0 gives nothing: remove the target'
            : `Unfair: ward target "${w.id}" takes money away from a ward (reward ${w.reward}). ${TAKES_AWAY}`,
      });
    }
    if (w.trigger.eventType !== 'ward-contribution' && triggerCanMatchHealth(w.trigger)) {
      out.push({
        path: [...path, 'trigger'],
        message:
          `Unfair: ward target "${w.id}" counts health-service visits towards a reward for the whole ward${healthHint(w.trigger)}. ` +
          'Health visits may only benefit the resident who made them, never a collective reward that others can lose.',
      });
    }
    if (w.ward === 'event' && w.trigger.eventType !== 'ward-contribution') {
      out.push({
        path: [...path, 'ward'],
        message: 'only ward contributions carry a ward: use "venue" or "resident-home" for visits',
      });
    }
  });

  if (s.timeBank) checkEligibility(s.timeBank.eligibility, ['timeBank'], 'the time bank', out);

  return out;
}
