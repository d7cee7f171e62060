import { compileSchemes, type CompiledSchemes } from './compile.js';
import type { EvaluationContext } from './context.js';
import { availableAt, checkRedemption, type RedemptionRefusal } from './redemption.js';
import type { SchemeDefinition } from './scheme.js';
import type { EngineStateView } from './state.js';

/** One thing a resident could spend a balance on, here and now. */
export interface RedemptionOption {
  schemeId: string;
  ruleId: string;
  item: string;
  description: string | null;
  wallet: string;
  /** Fixed price per unit, or the bounds of an open price. */
  price: { kind: 'fixed'; amount: number } | { kind: 'open'; min: number; max: number };
  available: number;
  needsApproval: boolean;
  /** True when nothing but a staff approval (if needed) stands in the way. */
  ok: boolean;
  reasons: RedemptionRefusal[];
}

/**
 * What the kiosk shows on the resident's screen: for every redemption rule in force at
 * this place whose wallet the resident holds, the price, what is available, and whether
 * staff must approve. Pure (the kiosk runs it on its own state and synced schemes); the
 * kiosk then calls `checkRedemption` with the amount and approver before it builds the
 * `redemption` event it pushes. Rules of other places are left out, not listed as refused.
 */
export function redemptionOptions(
  state: EngineStateView,
  place: {
    residentRef: string;
    at: number;
    venueId: string;
    serviceId: string | null;
    outletId: string | null;
    offline: { spentSinceSync: number } | null;
  },
  ctx: EvaluationContext,
  schemes: readonly SchemeDefinition[] | CompiledSchemes,
): RedemptionOption[] {
  const compiled = Array.isArray(schemes)
    ? compileSchemes(schemes as readonly SchemeDefinition[])
    : (schemes as CompiledSchemes);
  const out: RedemptionOption[] = [];
  const resident = state.resident(place.residentRef);
  for (const cs of compiled.inForce(place.at)) {
    const wallet = cs.def.wallet;
    const available = availableAt(resident, wallet, place.at);
    if (available <= 0) continue;
    for (const [ruleId, r] of cs.redemptions) {
      if (place.at < r.from || place.at >= r.to) continue;
      const rule = r.rule;
      const amount = rule.price.kind === 'fixed' ? rule.price.amount : rule.price.min;
      const check = checkRedemption(
        state,
        {
          residentRef: place.residentRef,
          at: place.at,
          schemeId: cs.id,
          ruleId,
          quantity: 1,
          amount,
          venueId: place.venueId,
          serviceId: place.serviceId,
          outletId: place.outletId,
          approvedBy: null,
          offline: place.offline,
        },
        ctx,
        compiled,
      );
      const reasons = check.reasons.filter((x) => x.code !== 'approval-required');
      if (reasons.some((x) => x.code === 'not-here')) continue;
      out.push({
        schemeId: cs.id,
        ruleId,
        item: rule.item,
        description: rule.description ?? null,
        wallet,
        price:
          rule.price.kind === 'fixed'
            ? { kind: 'fixed', amount: rule.price.amount }
            : { kind: 'open', min: rule.price.min, max: rule.price.max },
        available,
        needsApproval: check.needsApproval,
        ok: reasons.length === 0,
        reasons,
      });
    }
  }
  return out;
}
