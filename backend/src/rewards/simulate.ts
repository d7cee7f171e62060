import { z } from 'zod';
import {
  AppError,
  EngineEventSchema,
  MemoryEngineState,
  evaluate,
  validateScheme,
  type EngineEvent,
  type EvaluationContext,
  type SchemeDefinition,
  type ServiceKind,
} from '@clubcard/shared';
import type { Db } from '../db/open.js';
import type { BackendStore } from '../store/repository.js';
import { ContextBuilder } from './context.js';

export const SimulateSchema = z
  .object({
    scheme: z.unknown(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    k: z.number().int().min(2).max(1000).default(10),
  })
  .strict();

export interface SimulationCell {
  ageBand: string;
  ward: string;
  residents: number;
  amount: number;
}

export interface SimulationReport {
  schemeId: string;
  version: number;
  wallet: string;
  events: number;
  /** What the draft would have paid out (earned and granted), less what expired back. */
  cost: number;
  paidOut: number;
  expiredBack: number;
  beneficiaries: number;
  k: number;
  cells: SimulationCell[];
  /** Residents and amount in cells suppressed because they cover fewer than k residents. */
  suppressed: { cells: number; residents: number | null; amount: number | null };
  note: string;
}

/**
 * Replays every accepted past event, in arrival order, under the published schemes with
 * the draft in place of any published version of its id (treated as in force for the
 * whole window), and reports what the draft would have cost and who would have
 * benefited by age band and ward. Cells under k distinct residents are suppressed, and
 * so is the next smallest cell whenever the suppressed remainder alone would cover fewer
 * than k residents (so a cell cannot be recovered by subtracting from the total).
 */
export function simulateScheme(
  db: Db,
  store: BackendStore,
  input: z.input<typeof SimulateSchema>,
): SimulationReport {
  const req = SimulateSchema.parse(input);
  const v = validateScheme(req.scheme);
  if (!v.ok) {
    throw new AppError('scheme-refused', 'the draft scheme is refused', {
      details: { problems: v.problems },
    });
  }
  const { validTo: _drop, ...rest } = v.scheme;
  void _drop;
  const draft: SchemeDefinition = { ...rest, validFrom: '2000-01-01T00:00:00Z' };
  const schemes = [...store.listSchemes().filter((s) => s.id !== draft.id), draft];
  const rows = db
    .prepare(
      `SELECT payload FROM events WHERE status = 'accepted'
         AND (? IS NULL OR occurred_at >= ?) AND (? IS NULL OR occurred_at < ?)
       ORDER BY received_at, rowid`,
    )
    .iterate(req.from ?? null, req.from ?? null, req.to ?? null, req.to ?? null) as Iterable<{
    payload: string;
  }>;
  const state = new MemoryEngineState();
  const contexts = new ContextBuilder(store);
  const kinds = new Map(store.listServices().map((s) => [s.id as string, s.kind]));
  const account = `scheme:${draft.id}`;
  const perResident = new Map<string, number>();
  let events = 0;
  let paidOut = 0;
  let expiredBack = 0;
  for (const r of rows) {
    const p = EngineEventSchema.safeParse(JSON.parse(r.payload));
    if (!p.success) continue;
    const e: EngineEvent = p.data;
    events++;
    const res = evaluate(state, e, contextOf(contexts, kinds, e), schemes);
    state.apply(res.stateDelta);
    for (const l of res.lines) {
      if (l.from === account && l.to.startsWith('resident:')) {
        paidOut += l.amount;
        const ref = l.to.slice('resident:'.length);
        perResident.set(ref, (perResident.get(ref) ?? 0) + l.amount);
      } else if (l.to === account && l.from.startsWith('resident:')) {
        expiredBack += l.amount;
      }
    }
  }
  const cellsByKey = new Map<string, SimulationCell>();
  for (const [ref, amount] of perResident) {
    const res = store.getResident(ref);
    const key = `${res?.ageBand ?? 'unknown'}|${res?.ward ?? 'unknown'}`;
    const c = cellsByKey.get(key) ?? {
      ageBand: res?.ageBand ?? 'unknown',
      ward: res?.ward ?? 'unknown',
      residents: 0,
      amount: 0,
    };
    c.residents++;
    c.amount += amount;
    cellsByKey.set(key, c);
  }
  const all = [...cellsByKey.values()].sort((a, b) => a.residents - b.residents);
  const hidden = all.filter((c) => c.residents < req.k);
  const shown = all.filter((c) => c.residents >= req.k);
  const hiddenResidents = (): number => hidden.reduce((s, c) => s + c.residents, 0);
  while (hidden.length > 0 && hiddenResidents() < req.k && shown.length > 0) {
    hidden.push(shown.shift() as SimulationCell);
  }
  const beneficiaries = perResident.size;
  const hr = hiddenResidents();
  const tooFew = beneficiaries > 0 && beneficiaries < req.k;
  return {
    schemeId: draft.id,
    version: draft.version,
    wallet: draft.wallet,
    events,
    cost: tooFew ? 0 : paidOut - expiredBack,
    paidOut: tooFew ? 0 : paidOut,
    expiredBack: tooFew ? 0 : expiredBack,
    beneficiaries: tooFew ? 0 : beneficiaries,
    k: req.k,
    cells: shown.sort((a, b) =>
      a.ageBand === b.ageBand ? a.ward.localeCompare(b.ward) : a.ageBand.localeCompare(b.ageBand),
    ),
    suppressed: {
      cells: hidden.length,
      residents: hr >= req.k ? hr : null,
      amount: hr >= req.k ? hidden.reduce((s, c) => s + c.amount, 0) : null,
    },
    note: tooFew
      ? `fewer than ${req.k} residents would have benefited: totals suppressed`
      : 'draft evaluated as if in force for the whole window, on every accepted event in arrival order; scheduled allowances of the draft are not synthesised',
  };
}

function contextOf(
  contexts: ContextBuilder,
  kinds: Map<string, ServiceKind>,
  e: EngineEvent,
): EvaluationContext {
  if (e.type === 'allowance' || e.type === 'expiry-sweep') {
    const p = contexts.profile(e.residentRef);
    return { profile: p };
  }
  const kind = kinds.get(e.serviceId);
  if (!kind) {
    // Outlet and council-desk events: no council service or venue, only the outlet.
    const p = contexts.profile(e.residentRef);
    const ctx: EvaluationContext = {
      service: null,
      venue: null,
      profile: p,
    };
    if (e.type === 'redemption' && e.outletId) {
      ctx.outlet = { id: e.outletId, categories: contexts.outletCategories(e.outletId) };
    }
    return ctx;
  }
  return contexts.for(e, kind);
}
