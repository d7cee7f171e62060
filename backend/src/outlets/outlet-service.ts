import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  AppError,
  CardHashSchema,
  OutletIdSchema,
  RuleIdSchema,
  SchemeIdSchema,
  StaffRefSchema,
  checkRedemption,
  compileSchemes,
  newEventId,
  type RedemptionCheck,
} from '@clubcard/shared';
import type { Db } from '../db/open.js';
import type { BackendStore } from '../store/repository.js';
import { ContextBuilder } from '../rewards/context.js';
import { inEngineTransaction, recordEngineEvent } from '../rewards/council-events.js';
import type { EngineStateStore } from '../rewards/engine-state.js';
import { voucherHashOf } from '../rewards/grants.js';
import { OutletDirectory, type OutletRow } from '../rewards/outlet-directory.js';

const Category = z.string().regex(/^[a-z0-9][a-z0-9-]{0,60}$/, 'category must be kebab-case');

export const NewOutletSchema = z
  .object({
    id: OutletIdSchema.refine((s) => s.startsWith('o-'), 'an outlet id looks like o-<name>'),
    name: z.string().min(1).max(120),
    categories: z.array(Category).min(1).max(20),
  })
  .strict();

/** What an outlet's till sends: who (card hash or voucher code), what, how much. */
export const OutletRedeemSchema = z
  .object({
    cardHash: CardHashSchema.optional(),
    voucherCode: z
      .string()
      .regex(/^[A-Za-z0-9 -]{6,40}$/, 'voucher code looks like ABCDE-FGHJK')
      .optional(),
    category: Category,
    item: z.string().max(80).optional(),
    amount: z.number().int().min(1).max(1_000_000_000),
    quantity: z.number().int().min(1).max(100).default(1),
    schemeId: SchemeIdSchema.optional(),
    ruleId: RuleIdSchema.optional(),
    approvedBy: StaffRefSchema.nullable().default(null),
  })
  .strict()
  .refine((b) => (b.cardHash === undefined) !== (b.voucherCode === undefined), {
    message: 'give exactly one of cardHash or voucherCode',
  })
  .refine((b) => (b.schemeId === undefined) === (b.ruleId === undefined), {
    message: 'give schemeId and ruleId together, or neither',
  });

export interface OutletRedemption {
  eventId: string;
  outletId: string;
  residentRef: string;
  schemeId: string;
  ruleId: string;
  wallet: string;
  amount: number;
  /** Balance in that wallet after the redemption. */
  balance: number;
  flags: string[];
}

/** Outlets without a kiosk (a clothes shop taking work-clothes vouchers): keys and redemptions. */
export class OutletService {
  readonly #dir: OutletDirectory;

  constructor(
    private readonly db: Db,
    private readonly store: BackendStore,
    private readonly engine: EngineStateStore,
    private readonly cardHashKey: string,
    private readonly now: () => number = Date.now,
  ) {
    this.#dir = new OutletDirectory(db);
  }

  add(input: z.input<typeof NewOutletSchema>): OutletRow {
    const o = NewOutletSchema.parse(input);
    const kioskId = `k-outlet-${o.id.slice(2)}`;
    this.store.transaction(() => {
      if (this.#dir.get(o.id)) throw new AppError('bad-request', `outlet ${o.id} exists`);
      this.db
        .prepare(
          'INSERT INTO outlets (id, name, categories, kiosk_id, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(o.id, o.name, JSON.stringify([...new Set(o.categories)].sort()), kioskId, this.now());
    });
    return new OutletDirectory(this.db).get(o.id) as OutletRow;
  }

  list(): OutletRow[] {
    return new OutletDirectory(this.db).list();
  }

  /** A new API key for an outlet; shown once, stored as its SHA-256 only. */
  issueKey(outletId: string): { outletId: string; apiKey: string } {
    if (!new OutletDirectory(this.db).get(outletId)) {
      throw new AppError('unknown-outlet', `unknown outlet ${outletId}`);
    }
    const apiKey = `olk_${randomBytes(32).toString('base64url')}`;
    this.db
      .prepare('INSERT INTO outlet_keys (key_hash, outlet_id, created_at) VALUES (?, ?, ?)')
      .run(hashKey(apiKey), outletId, this.now());
    return { outletId, apiKey };
  }

  revokeKeys(outletId: string): { outletId: string; revoked: number } {
    const r = this.db
      .prepare('UPDATE outlet_keys SET revoked_at = ? WHERE outlet_id = ? AND revoked_at IS NULL')
      .run(this.now(), outletId);
    return { outletId, revoked: r.changes };
  }

  /** The outlet an API key belongs to, or a `bad-outlet-key` error. */
  authenticate(apiKey: string | null): OutletRow {
    const row =
      apiKey && /^olk_[A-Za-z0-9_-]{43}$/.test(apiKey)
        ? (this.db
            .prepare('SELECT outlet_id FROM outlet_keys WHERE key_hash = ? AND revoked_at IS NULL')
            .get(hashKey(apiKey)) as { outlet_id: string } | undefined)
        : undefined;
    const outlet = row ? new OutletDirectory(this.db).get(row.outlet_id) : null;
    if (!outlet) throw new AppError('bad-outlet-key', 'unknown or revoked outlet key');
    return outlet;
  }

  /**
   * Checks and records one redemption at an outlet, in ONE transaction: identify the
   * resident, find the redemption rule (given, or the one for this category / item),
   * checkRedemption (restrictions, outlet, category, approval, price, balance), then the
   * engine records it as a `redemption` event from the outlet's pseudo-kiosk with its own
   * gap-free sequence. A refusal records nothing and says why.
   */
  redeem(outlet: OutletRow, input: z.input<typeof OutletRedeemSchema>): OutletRedemption {
    const b = OutletRedeemSchema.parse(input);
    const now = this.now();
    const at = new Date(now).toISOString();
    return inEngineTransaction(this.store, this.engine, () => {
      const cardHash = b.cardHash ?? voucherHashOf(this.cardHashKey, b.voucherCode ?? '');
      const residentRef = this.#residentOf(cardHash, b.voucherCode !== undefined);
      if (!outlet.categories.includes(b.category)) {
        throw refusal(`${outlet.id} is not approved for ${b.category}`, [
          { code: 'not-here', message: `this outlet is not approved for ${b.category}` },
        ]);
      }
      const contexts = new ContextBuilder(this.store);
      const profile = contexts.profile(residentRef);
      const ctx = {
        service: null,
        venue: null,
        outlet: { id: outlet.id, categories: outlet.categories },
        profile,
      };
      const compiled = compileSchemes(this.store.listSchemes());
      const candidates: { schemeId: string; ruleId: string }[] = [];
      if (b.schemeId && b.ruleId) candidates.push({ schemeId: b.schemeId, ruleId: b.ruleId });
      else {
        for (const cs of compiled.inForce(now)) {
          for (const [ruleId, r] of cs.redemptions) {
            if (now < r.from || now >= r.to) continue;
            const cats = r.rule.where.outletCategories;
            if (cats?.includes(b.category) || (b.item && r.rule.item === b.item)) {
              candidates.push({ schemeId: cs.id, ruleId });
            }
          }
        }
      }
      if (candidates.length === 0) {
        throw refusal(`nothing can be redeemed for ${b.category} here`, [
          { code: 'unknown-rule', message: `no redemption in force for ${b.category}` },
        ]);
      }
      let chosen: { schemeId: string; ruleId: string; check: RedemptionCheck } | null = null;
      let firstRefused: RedemptionCheck | null = null;
      for (const c of candidates) {
        const check = checkRedemption(
          this.engine,
          {
            residentRef,
            at: now,
            schemeId: c.schemeId,
            ruleId: c.ruleId,
            quantity: b.quantity,
            amount: b.amount,
            venueId: `v-outlet-${outlet.id.slice(2)}`,
            serviceId: null,
            outletId: outlet.id,
            approvedBy: b.approvedBy,
            offline: null,
          },
          ctx,
          compiled,
        );
        const cats = compiled.version(c.schemeId, now)?.redemptions.get(c.ruleId)?.rule
          .where.outletCategories;
        if (cats && !cats.includes(b.category)) {
          check.ok = false;
          check.reasons.push({ code: 'not-here', message: `not redeemable for ${b.category}` });
        }
        if (check.ok) {
          chosen = { ...c, check };
          break;
        }
        firstRefused ??= check;
      }
      if (!chosen) {
        const reasons = firstRefused?.reasons ?? [];
        throw refusal(reasons.map((r) => r.message).join('; ') || 'refused', reasons);
      }
      const wallet = chosen.check.wallet ?? '';
      const { event, result } = recordEngineEvent(
        { db: this.db, store: this.store, engine: this.engine },
        {
          id: newEventId(),
          kioskId: outlet.kioskId,
          occurredAt: at,
          venueId: `v-outlet-${outlet.id.slice(2)}`,
          type: 'redemption',
          cardHash,
          residentRef,
          serviceId: 's-outlet',
          auth: { method: 'staff-manual', keyVersion: null, counter: null },
          wallet,
          schemeId: chosen.schemeId,
          ruleId: chosen.ruleId,
          outletId: outlet.id,
          quantity: b.quantity,
          amount: chosen.check.price,
          offline: false,
          approvedBy: b.approvedBy,
        },
        ctx,
        now,
      );
      const balance = this.store
        .balancesOf(`resident:${residentRef}`)
        .filter((x) => x.wallet === wallet)
        .reduce((s, x) => s + x.amount, 0);
      return {
        eventId: event.id,
        outletId: outlet.id,
        residentRef,
        schemeId: chosen.schemeId,
        ruleId: chosen.ruleId,
        wallet,
        amount: chosen.check.price,
        balance,
        flags: result.flags.map((f) => f.code),
      };
    });
  }

  #residentOf(cardHash: string, voucher: boolean): string {
    if (voucher) {
      const v = this.db
        .prepare('SELECT resident_ref FROM voucher_codes WHERE card_hash = ?')
        .get(cardHash) as { resident_ref: string } | undefined;
      if (!v) throw new AppError('card-not-registered', 'unknown voucher code');
      return v.resident_ref;
    }
    const card = this.store.getCard(cardHash);
    if (!card) throw new AppError('card-not-registered', 'card is not registered');
    if (card.status === 'blocked') throw new AppError('card-blocked', 'card is blocked');
    return card.residentRef;
  }
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function refusal(message: string, reasons: { code: string; message: string }[]): AppError {
  return new AppError('redemption-refused', message, { details: { reasons } });
}
