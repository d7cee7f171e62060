import {
  compileSchemes,
  isCompiled,
  type CompiledRedemption,
  type CompiledScheme,
  type CompiledSchemes,
} from './compile.js';
import {
  isEligible,
  profileIn,
  serviceKindOf,
  whereProblem,
  type EvaluationContext,
} from './context.js';
import { LOT_STRIDE, L_AMOUNT, L_EXPIRES, L_WALLET, NEVER_EXPIRES } from './lots.js';
import type { SchemeDefinition } from './scheme.js';
import type { EngineStateView, ResidentState } from './state.js';

/**
 * Redemption checks, as pure functions. The kiosk calls checkRedemption before it lets a
 * resident spend (online or offline); the engine re-runs the restriction part on the
 * redemption event and flags, rather than refuses, what fails: by then the goods were
 * handed over, so the spend is recorded and staff review the flag.
 */

export type RedemptionRefusalCode =
  | 'unknown-rule'
  | 'wallet-mismatch'
  | 'not-here'
  | 'not-eligible'
  | 'approval-required'
  | 'price-mismatch'
  | 'over-maximum'
  | 'insufficient-balance'
  | 'offline-allowance-exceeded';

export interface RedemptionRefusal {
  code: RedemptionRefusalCode;
  message: string;
}

export interface RedemptionRequest {
  residentRef: string;
  /** When the redemption happens (ISO instant or epoch ms). */
  at: string | number;
  schemeId: string;
  ruleId: string;
  quantity: number;
  /** The amount entered at the till, for open prices; ignored for fixed prices. */
  amount?: number;
  venueId: string;
  serviceId: string | null;
  outletId: string | null;
  approvedBy: string | null;
  /**
   * Null when online (the backend confirms). Offline: what this card has redeemed from
   * this wallet on this kiosk since its last sync (the offline allowance caps it).
   */
  offline: { spentSinceSync: number } | null;
}

export interface RedemptionCheck {
  ok: boolean;
  /** Total price in the wallet's unit (0 when the rule is unknown). */
  price: number;
  wallet: string | null;
  /** What the resident can spend from that wallet at that instant. */
  available: number;
  /** Staff must approve (approvedBy is required). */
  needsApproval: boolean;
  reasons: RedemptionRefusal[];
}

/** Balance usable at `t` in a wallet: lots not expired by then, less any overdraft. */
export function availableAt(r: ResidentState | undefined, wallet: string, t: number): number {
  if (!r) return 0;
  let sum = 0;
  const lots = r.lots;
  for (let i = 0; i < lots.length; i += LOT_STRIDE) {
    const e = lots[i + L_EXPIRES] as number;
    if (lots[i + L_WALLET] === wallet && (e === NEVER_EXPIRES || e * 60_000 > t)) {
      sum += lots[i + L_AMOUNT] as number;
    }
  }
  return sum - (r.overdraft?.get(wallet) ?? 0);
}

/** Price of a redemption under a rule, and whether the amount given fits it. */
export function priceOf(
  rule: CompiledRedemption['rule'],
  quantity: number,
  amount: number | undefined,
): { price: number; problem: RedemptionRefusal | null } {
  if (rule.price.kind === 'fixed') {
    const price = rule.price.amount * quantity;
    if (amount !== undefined && amount !== price) {
      return {
        price,
        problem: { code: 'price-mismatch', message: `the price is ${price}, not ${amount}` },
      };
    }
    return { price, problem: null };
  }
  const price = amount ?? 0;
  if (price < rule.price.min || price > rule.price.max) {
    return {
      price,
      problem: {
        code: 'over-maximum',
        message: `amount must be between ${rule.price.min} and ${rule.price.max}`,
      },
    };
  }
  return { price, problem: null };
}

/**
 * Restrictions of a redemption rule that do not depend on balances: is the rule known
 * and in force, right wallet, right place (approved outlet, service, venue), resident
 * eligible, staff approval present, price right.
 */
export function redemptionRestrictions(
  scheme: CompiledScheme | undefined,
  ruleId: string,
  t: number,
  req: {
    wallet?: string;
    quantity: number;
    amount?: number;
    venueId: string;
    serviceId: string | null;
    outletId: string | null;
    approvedBy: string | null;
    residentRef: string;
  },
  ctx: EvaluationContext,
): {
  rule: CompiledRedemption | null;
  price: number;
  needsApproval: boolean;
  problems: RedemptionRefusal[];
} {
  const cr = scheme?.redemptions.get(ruleId);
  if (!scheme || !cr || t < cr.from || t >= cr.to) {
    return {
      rule: null,
      price: req.amount ?? 0,
      needsApproval: false,
      problems: [{ code: 'unknown-rule', message: 'no such redemption in force' }],
    };
  }
  const problems: RedemptionRefusal[] = [];
  const rule = cr.rule;
  if (req.wallet !== undefined && req.wallet !== scheme.def.wallet) {
    problems.push({
      code: 'wallet-mismatch',
      message: `pays from ${scheme.def.wallet}, not ${req.wallet}`,
    });
  }
  const where = whereProblem(rule.where, {
    serviceKind: serviceKindOf(ctx),
    serviceId: req.serviceId,
    venueId: req.venueId,
    venueType: ctx.venue?.type ?? null,
    outletId: req.outletId,
    outletCategories: ctx.outlet?.categories ?? [],
  });
  if (where) problems.push({ code: 'not-here', message: where });
  if (!isEligible(rule.eligibility, profileIn(ctx, req.residentRef, req.residentRef))) {
    problems.push({ code: 'not-eligible', message: 'the resident is not eligible for this' });
  }
  const { price, problem } = priceOf(rule, req.quantity, req.amount);
  if (problem) problems.push(problem);
  const a = rule.approval;
  const needsApproval = a === 'staff' || (typeof a === 'object' && price > a.staffAbove);
  if (needsApproval && req.approvedBy === null) {
    problems.push({ code: 'approval-required', message: 'a member of staff must approve this' });
  }
  return { rule: cr, price, needsApproval, problems };
}

/**
 * May this resident redeem this, here, now? Checks the rule and its restrictions, the
 * balance available at that instant and, offline, the card's offline allowance.
 */
export function checkRedemption(
  state: EngineStateView,
  req: RedemptionRequest,
  ctx: EvaluationContext,
  schemes: readonly SchemeDefinition[] | CompiledSchemes,
): RedemptionCheck {
  const compiled = isCompiled(schemes) ? schemes : compileSchemes(schemes);
  const t = typeof req.at === 'number' ? req.at : Date.parse(req.at);
  const scheme = compiled.version(req.schemeId, t);
  const r = redemptionRestrictions(scheme, req.ruleId, t, req, ctx);
  const wallet = scheme ? scheme.def.wallet : null;
  const available = wallet === null ? 0 : availableAt(state.resident(req.residentRef), wallet, t);
  const reasons = [...r.problems];
  if (r.rule && r.price > available) {
    reasons.push({
      code: 'insufficient-balance',
      message: `needs ${r.price}, ${available} available`,
    });
  }
  if (r.rule && scheme && req.offline) {
    const allowance = scheme.def.redemption.offlineAllowance;
    if (req.offline.spentSinceSync + r.price > allowance) {
      reasons.push({
        code: 'offline-allowance-exceeded',
        message: `offline, this card may redeem ${allowance} between syncs (${req.offline.spentSinceSync} used)`,
      });
    }
  }
  return {
    ok: reasons.length === 0,
    price: r.price,
    wallet,
    available,
    needsApproval: r.needsApproval,
    reasons,
  };
}
