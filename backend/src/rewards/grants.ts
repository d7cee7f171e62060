import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  AppError,
  RuleIdSchema,
  SchemeIdSchema,
  StaffRefSchema,
  compileSchemes,
  describeMessage,
  isEligible,
  londonTime,
  newEventId,
  periodCodeOf,
  periodKeyOfCode,
  type AgeBand,
  type CardHash,
} from '@clubcard/shared';
import type { Db } from '../db/open.js';
import type { BackendStore, ResidentRow } from '../store/repository.js';
import { AttributeValueSchemaPattern, ResidentAttributeStore } from './attributes.js';
import { ContextBuilder } from './context.js';
import { COUNCIL_KIOSK_ID, inEngineTransaction, recordEngineEvent } from './council-events.js';
import type { EngineStateStore } from './engine-state.js';

/** The back office records top-ups as if at the council office desk. */
export const COUNCIL_OFFICE_VENUE = 'v-council-office';
export const COUNCIL_DESK_SERVICE = 's-council-desk';

const Attribute = z.string().regex(AttributeValueSchemaPattern, 'must be kebab-case');

export const TopUpSchema = z
  .object({
    residentRef: z.string().regex(/^r-[a-z0-9]{4,40}$/, 'resident ref must look like r-<id>'),
    schemeId: SchemeIdSchema,
    grantId: RuleIdSchema,
    amount: z.number().int().min(1).max(1_000_000_000),
    approvedBy: StaffRefSchema.nullable().default(null),
  })
  .strict();

export const AttributesSchema = z
  .object({
    residentRef: z.string().regex(/^r-[a-z0-9]{4,40}$/, 'resident ref must look like r-<id>'),
    add: z
      .object({
        categories: z.array(Attribute).max(20).default([]),
        consents: z.array(Attribute).max(20).default([]),
      })
      .default({ categories: [], consents: [] }),
    remove: z
      .object({
        categories: z.array(Attribute).max(20).default([]),
        consents: z.array(Attribute).max(20).default([]),
      })
      .default({ categories: [], consents: [] }),
  })
  .strict();

export const RunAllowancesSchema = z
  .object({ at: z.iso.datetime({ offset: true }).optional() })
  .strict();

export interface AllowanceRunReport {
  at: string;
  issued: number;
  alreadyIssued: number;
  notEligible: number;
  credited: number;
  bySchemeGrant: { schemeId: string; grantId: string; period: string; issued: number }[];
}

/**
 * Council grants: the allowance scheduler (one `allowance` event per eligible resident per
 * period, from k-council with its own gap-free sequence) and one-off staff-approved
 * top-ups. Both go through the same engine as every kiosk event.
 */
export class GrantService {
  readonly #attrs: ResidentAttributeStore;

  constructor(
    private readonly db: Db,
    private readonly store: BackendStore,
    private readonly engine: EngineStateStore,
    private readonly cardHashKey: string,
    private readonly now: () => number = Date.now,
  ) {
    this.#attrs = new ResidentAttributeStore(db);
  }

  #residents(): ResidentRow[] {
    return (
      this.db
        .prepare('SELECT ref, first_name, age_band, ward, created_at FROM residents ORDER BY ref')
        .all() as {
        ref: string;
        first_name: string | null;
        age_band: string;
        ward: string;
        created_at: number;
      }[]
    ).map((r) => ({
      ref: r.ref as ResidentRow['ref'],
      firstName: r.first_name,
      ageBand: r.age_band as AgeBand,
      ward: r.ward,
      createdAt: r.created_at,
    }));
  }

  /**
   * Issues every allowance due at `at` (default now) that has not been issued yet. A
   * resident already issued this period counts as `alreadyIssued` whatever their
   * eligibility now.
   */
  runAllowances(input: z.input<typeof RunAllowancesSchema> = {}): AllowanceRunReport {
    const { at } = RunAllowancesSchema.parse(input);
    const t = at ? Date.parse(at) : this.now();
    const occurredAt = new Date(t).toISOString();
    const compiled = compileSchemes(this.store.listSchemes());
    const cal = londonTime(t);
    const report: AllowanceRunReport = {
      at: occurredAt,
      issued: 0,
      alreadyIssued: 0,
      notEligible: 0,
      credited: 0,
      bySchemeGrant: [],
    };
    const residents = this.#residents();
    const seen = this.db.prepare(
      'SELECT 1 FROM allowance_runs WHERE scheme_id = ? AND grant_id = ? AND period = ? AND resident_ref = ?',
    );
    const issuedIn = this.db
      .prepare(
        'SELECT resident_ref FROM allowance_runs WHERE scheme_id = ? AND grant_id = ? AND period = ?',
      )
      .pluck();
    const note = this.db.prepare(
      `INSERT INTO allowance_runs (scheme_id, grant_id, period, resident_ref, event_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    for (const cs of compiled.inForce(t)) {
      for (const g of cs.grants.values()) {
        const rule = g.rule;
        if (rule.kind !== 'allowance' || t < g.from || t >= g.to) continue;
        const period = periodKeyOfCode(periodCodeOf(rule.period, cal));
        const row = { schemeId: cs.id, grantId: rule.id, period, issued: 0 };
        report.bySchemeGrant.push(row);
        const contexts = new ContextBuilder(this.store);
        // The scheduler runs this every hour: skip cheaply whoever cannot be due (outside
        // the rule's age bands, or issued this period) before loading their profile.
        const bands = rule.eligibility?.ageBands;
        const issued = new Set(issuedIn.all(cs.id, rule.id, period) as string[]);
        for (const r of residents) {
          if (bands && !bands.includes(r.ageBand)) {
            report.notEligible++;
            continue;
          }
          if (issued.has(r.ref)) {
            report.alreadyIssued++;
            continue;
          }
          const profile = contexts.profile(r.ref);
          if (!isEligible(rule.eligibility, profile)) {
            report.notEligible++;
            continue;
          }
          if (seen.get(cs.id, rule.id, period, r.ref)) {
            report.alreadyIssued++;
            continue;
          }
          inEngineTransaction(this.store, this.engine, () => {
            const { event, result } = recordEngineEvent(
              { db: this.db, store: this.store, engine: this.engine },
              {
                id: newEventId(),
                kioskId: COUNCIL_KIOSK_ID,
                occurredAt,
                type: 'allowance',
                residentRef: r.ref,
                schemeId: cs.id,
                grantId: rule.id,
              },
              { profile },
              this.now(),
            );
            note.run(cs.id, rule.id, period, r.ref, event.id, this.now());
            report.credited += result.lines
              .filter((l) => l.to === `resident:${r.ref}`)
              .reduce((s, l) => s + l.amount, 0);
          });
          row.issued++;
          report.issued++;
        }
      }
    }
    return report;
  }

  /**
   * A one-off top-up for one resident. Refused (and nothing recorded) unless the engine
   * credits it in full: unknown grant, not eligible, approval missing, over the maximum,
   * a limit reached or the budget used up all come back as `grant-refused` with the reason.
   */
  topUp(input: z.input<typeof TopUpSchema>): {
    eventId: string;
    residentRef: string;
    wallet: string;
    amount: number;
  } {
    const req = TopUpSchema.parse(input);
    const now = this.now();
    return inEngineTransaction(this.store, this.engine, () => {
      if (!this.store.getResident(req.residentRef)) {
        throw new AppError('not-found', `unknown resident ${req.residentRef}`);
      }
      const card = this.db
        .prepare(
          "SELECT card_hash FROM cards WHERE resident_ref = ? AND status = 'active' ORDER BY created_at LIMIT 1",
        )
        .get(req.residentRef) as { card_hash: string } | undefined;
      const cardHash = card?.card_hash ?? this.#residentPseudoCard(req.residentRef);
      const contexts = new ContextBuilder(this.store);
      const profile = contexts.profile(req.residentRef);
      const { event, result } = recordEngineEvent(
        { db: this.db, store: this.store, engine: this.engine },
        {
          id: newEventId(),
          kioskId: COUNCIL_KIOSK_ID,
          occurredAt: new Date(now).toISOString(),
          venueId: COUNCIL_OFFICE_VENUE,
          type: 'grant',
          cardHash,
          residentRef: req.residentRef,
          serviceId: COUNCIL_DESK_SERVICE,
          auth: { method: 'staff-manual', keyVersion: null, counter: null },
          schemeId: req.schemeId,
          grantId: req.grantId,
          amount: req.amount,
          approvedBy: req.approvedBy,
        },
        { service: null, venue: null, profile },
        now,
        (r) => {
          const credited = r.lines.filter((l) => l.to === `resident:${req.residentRef}`);
          if (credited.length === 0) {
            const why = r.messages.map((m) => describeMessage(m)).join('; ') || 'nothing granted';
            throw new AppError('grant-refused', why, {
              details: { reasons: r.messages.map((m) => m.code) },
            });
          }
        },
      );
      const wallet = result.lines[0]?.wallet ?? '';
      return {
        eventId: event.id,
        residentRef: req.residentRef,
        wallet,
        amount: result.lines.reduce((s, l) => s + l.amount, 0),
      };
    });
  }

  /** Adds or removes a resident's eligibility categories and consents. */
  setAttributes(input: z.input<typeof AttributesSchema>): {
    residentRef: string;
    categories: string[];
    consents: string[];
  } {
    const a = AttributesSchema.parse(input);
    const now = this.now();
    return this.store.transaction(() => {
      if (!this.store.getResident(a.residentRef)) {
        throw new AppError('not-found', `unknown resident ${a.residentRef}`);
      }
      const before = JSON.stringify(this.#attrs.of(a.residentRef));
      for (const c of a.add.categories) this.#attrs.add(a.residentRef, 'category', c, now);
      for (const c of a.add.consents) this.#attrs.add(a.residentRef, 'consent', c, now);
      for (const c of a.remove.categories) this.#attrs.remove(a.residentRef, 'category', c);
      for (const c of a.remove.consents) this.#attrs.remove(a.residentRef, 'consent', c);
      // Kiosks hold eligibility flags: let them pull this resident again.
      this.store.addChange('balance', a.residentRef, now);
      const after = this.#attrs.of(a.residentRef);
      // Kiosks keep them on card rows: every card of the resident is sent again.
      if (JSON.stringify(after) !== before)
        this.#attrs.resyncCards(this.store, [a.residentRef], now);
      return { residentRef: a.residentRef, ...after };
    });
  }

  /**
   * A voucher code for a resident without a card (or for outlets that cannot read one).
   * Shown once; stored only as its HMAC, which stands in for a card hash.
   */
  issueVoucherCode(residentRef: string): { residentRef: string; voucherCode: string } {
    if (!this.store.getResident(residentRef)) {
      throw new AppError('not-found', `unknown resident ${residentRef}`);
    }
    const raw = randomBytes(10);
    let code = '';
    for (const b of raw) code += 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[b & 31];
    const pretty = `${code.slice(0, 5)}-${code.slice(5)}`;
    this.db
      .prepare('INSERT INTO voucher_codes (card_hash, resident_ref, created_at) VALUES (?, ?, ?)')
      .run(voucherHashOf(this.cardHashKey, pretty), residentRef, this.now());
    return { residentRef, voucherCode: pretty };
  }

  #residentPseudoCard(ref: string): CardHash {
    return createHmac('sha256', Buffer.from(this.cardHashKey, 'hex'))
      .update(`council-desk:${ref}`)
      .digest('hex') as CardHash;
  }
}

/** The pseudo card hash of a voucher code (case and spacing ignored). */
export function voucherHashOf(cardHashKey: string, code: string): CardHash {
  const norm = code.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return createHmac('sha256', Buffer.from(cardHashKey, 'hex'))
    .update(`voucher:${norm}`)
    .digest('hex') as CardHash;
}
