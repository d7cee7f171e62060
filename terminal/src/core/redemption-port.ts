import {
  AppError,
  NEVER_EXPIRES,
  NO_EXPIRY,
  checkRedemption,
  compileSchemes,
  evaluate,
  newEventId,
  newResidentState,
  pushLot,
  type CompiledSchemes,
  type EngineStateView,
  type ErrorCode,
  type EvaluationContext,
  type LotList,
  type RedemptionCheck,
  type RedemptionEvent,
  type ResidentState,
} from '@clubcard/shared';
import {
  redemptionOptions,
  type RedemptionOption,
} from '@clubcard/shared/rules/redemption-options';
import type { DisplayBalanceMsg, Offer, SpendOption } from '../bridge/kiosk-bridge.js';
import type { RedemptionPort } from '../server/kiosk-services.js';
import type { DeskStore } from '../store/desk-store.js';
import type { KioskIdentity, KioskStore, LocalService, LocalVenue } from '../store/kiosk-store.js';
import { kioskContext } from './evaluation-context.js';

export interface KioskRedemptionDeps {
  store: KioskStore;
  desk: DeskStore;
  /** The kiosk's provisional engine state (limits and clocks of its own taps). */
  engine: EngineStateView;
  /** True while the backend answers: offline, each card's offline allowance applies. */
  online: () => boolean;
  now?: () => number;
  /** Targeted offers held on the kiosk, when they are (the answer is shown as is). */
  offers?: { offerFor(residentRef: string): Offer | null };
}

/** Where and for whom: everything a redemption check needs at this kiosk, now. */
interface Place {
  id: KioskIdentity;
  venue: LocalVenue;
  service: LocalService;
  at: number;
  state: EngineStateView;
  ctx: EvaluationContext;
  schemes: CompiledSchemes;
}

/** A refusal as the screen explains it; rules the resident is not eligible for are not shown. */
function unavailableCode(check: RedemptionCheck): ErrorCode | null {
  const codes = check.reasons.map((r) => r.code).filter((c) => c !== 'approval-required');
  if (codes.length === 0) return null;
  // What the rule itself forbids comes first: no balance would change it.
  if (codes.some((c) => c !== 'insufficient-balance' && c !== 'offline-allowance-exceeded')) {
    return 'redemption-refused';
  }
  return codes.includes('insufficient-balance') ? 'nothing-to-spend' : 'offline-allowance-exceeded';
}

/** `swim-session` → `Swim session` (a scheme's description is used when it has one). */
function labelOf(o: RedemptionOption): string {
  if (o.description) return o.description;
  const words = o.item.replaceAll('-', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The kiosk's redemption step. What a resident can spend here comes from the rules
 * engine's redemption rules (redemptionOptions) over what the kiosk knows: the balances
 * it shows (pulled from the backend plus its own unsettled lines) as the resident's lots,
 * and its provisional engine state. A redemption is checked again (checkRedemption: the
 * rule, the place or approved outlet, eligibility, staff approval, the balance and,
 * offline, the card's offline allowance) and recorded as a `redemption` event with its
 * provisional lines in ONE transaction. The backend's answer is authoritative.
 */
export class KioskRedemption implements RedemptionPort {
  readonly #d: Required<Omit<KioskRedemptionDeps, 'offers'>> & Pick<KioskRedemptionDeps, 'offers'>;

  constructor(deps: KioskRedemptionDeps) {
    this.#d = { now: Date.now, ...deps };
  }

  optionsFor(residentRef: string): { options: SpendOption[]; offer: Offer | null } {
    const offer = this.#d.offers?.offerFor(residentRef) ?? null;
    const p = this.#place(residentRef);
    if (!p) return { options: [], offer };
    const listed = redemptionOptions(
      p.state,
      {
        residentRef,
        at: p.at,
        venueId: p.venue.id,
        serviceId: p.service.id,
        outletId: null,
        offline: null,
      },
      p.ctx,
      p.schemes,
    );
    const options: SpendOption[] = [];
    for (const o of listed) {
      // The screen offers fixed prices only: an open price is entered at a till.
      if (o.price.kind !== 'fixed') continue;
      if (o.reasons.some((r) => r.code === 'not-eligible')) continue;
      const check = this.#check(p, residentRef, o.schemeId, o.ruleId, 1, o.price.amount, null);
      options.push({
        id: `${o.schemeId}/${o.ruleId}`,
        wallet: o.wallet,
        label: { en: labelOf(o) },
        price: o.price.amount,
        needsApproval: o.needsApproval,
        unavailable: unavailableCode(check),
      });
    }
    return { options, offer };
  }

  redeem(req: {
    residentRef: string;
    optionId: string;
    quantity: number;
    approvedBy: string | null;
  }): { ok: true; balances: DisplayBalanceMsg[] } | { ok: false; code: ErrorCode } {
    const [schemeId, ruleId] = req.optionId.split('/');
    if (!schemeId || !ruleId) return { ok: false, code: 'not-found' };
    const p = this.#place(req.residentRef);
    const tap = this.#d.desk.lastTap(req.residentRef);
    if (!p || !tap) return { ok: false, code: 'not-found' };
    const scheme = p.schemes.version(schemeId, p.at);
    const rule = scheme?.redemptions.get(ruleId)?.rule;
    if (!scheme || !rule || rule.price.kind !== 'fixed') return { ok: false, code: 'not-found' };
    const amount = rule.price.amount * req.quantity;
    const check = this.#check(
      p,
      req.residentRef,
      schemeId,
      ruleId,
      req.quantity,
      amount,
      req.approvedBy,
    );
    if (!check.ok || check.wallet === null) {
      const code = check.reasons.some((r) => r.code === 'approval-required')
        ? 'forbidden'
        : (unavailableCode(check) ?? 'redemption-refused');
      return { ok: false, code };
    }
    const wallet = check.wallet;
    const offline = !this.#d.online();
    try {
      this.#d.store.appendEvent((seq) => {
        const event: RedemptionEvent = {
          id: newEventId(),
          kioskId: p.id.kioskId as RedemptionEvent['kioskId'],
          seq,
          occurredAt: new Date(p.at).toISOString(),
          venueId: p.venue.id as RedemptionEvent['venueId'],
          type: 'redemption',
          cardHash: tap.cardHash as RedemptionEvent['cardHash'],
          residentRef: req.residentRef as RedemptionEvent['residentRef'],
          serviceId: p.service.id as RedemptionEvent['serviceId'],
          // The card proved itself at the tap; its counter belongs to that visit alone.
          auth: { method: tap.auth.method, keyVersion: tap.auth.keyVersion, counter: null },
          wallet: wallet as RedemptionEvent['wallet'],
          schemeId: schemeId as RedemptionEvent['schemeId'],
          ruleId: ruleId as RedemptionEvent['ruleId'],
          outletId: null,
          quantity: req.quantity,
          amount,
          offline,
          approvedBy: req.approvedBy as RedemptionEvent['approvedBy'],
        };
        // Provisional lines from the same engine; the balances stay the source of the
        // resident's lots, so the engine state is not moved on by a spend.
        const result = evaluate(p.state, event, p.ctx, p.schemes);
        return { event, lines: result.lines };
      });
    } catch (e) {
      return { ok: false, code: e instanceof AppError ? e.code : 'storage-error' };
    }
    return { ok: true, balances: this.#d.store.balancesFor(req.residentRef) };
  }

  #check(
    p: Place,
    residentRef: string,
    schemeId: string,
    ruleId: string,
    quantity: number,
    amount: number,
    approvedBy: string | null,
  ): RedemptionCheck {
    const wallet = p.schemes.version(schemeId, p.at)?.def.wallet ?? null;
    const offline =
      this.#d.online() || wallet === null
        ? null
        : { spentSinceSync: this.#d.desk.redeemedSinceSync(residentRef, wallet) };
    return checkRedemption(
      p.state,
      {
        residentRef,
        at: p.at,
        schemeId,
        ruleId,
        quantity,
        amount,
        venueId: p.venue.id,
        serviceId: p.service.id,
        outletId: null,
        approvedBy,
        offline,
      },
      p.ctx,
      p.schemes,
    );
  }

  #place(residentRef: string): Place | null {
    const id = this.#d.store.identity();
    if (!id) return null;
    const venue = this.#d.store.getVenue(id.venueId);
    const service = this.#d.store.getService(id.serviceId);
    const known = this.#d.store.eligibilityOf(residentRef);
    if (!venue || !service || !known) return null;
    const resident = { residentRef, ...known };
    const resState = this.#residentState(residentRef);
    const engine = this.#d.engine;
    return {
      id,
      venue,
      service,
      at: this.#d.now(),
      state: {
        resident: (ref) => (ref === residentRef ? resState : engine.resident(ref)),
        scheme: (sid) => engine.scheme(sid),
        ward: (wid) => engine.ward(wid),
      },
      ctx: kioskContext(venue, service, resident),
      schemes: compileSchemes(this.#d.store.listSchemes()),
    };
  }

  /**
   * The resident's state for spending: the kiosk's provisional state (clock, counters)
   * with the balances it shows as lots — one per wallet, never expiring (a pulled balance
   * carries no expiry; the backend spends its own lots) — and any negative balance as an
   * overdraft.
   */
  #residentState(residentRef: string): ResidentState {
    const base = this.#d.engine.resident(residentRef) ?? newResidentState(residentRef);
    const lots: LotList = [];
    const overdraft = new Map<string, number>();
    const schemes = compileSchemes(this.#d.store.listSchemes()).inForce(this.#d.now());
    for (const b of this.#d.store.balancesFor(residentRef)) {
      if (b.amount < 0) overdraft.set(b.wallet, -b.amount);
      if (b.amount <= 0) continue;
      const s = schemes.find((x) => x.def.wallet === b.wallet);
      pushLot(
        lots,
        b.wallet,
        s?.id ?? '',
        s?.version ?? 0,
        s?.account ?? '',
        b.amount,
        NEVER_EXPIRES,
        `balance:${b.wallet}`,
      );
    }
    return {
      ...base,
      lots,
      nextExpiry: NO_EXPIRY,
      overdraft: overdraft.size > 0 ? overdraft : null,
    };
  }
}
