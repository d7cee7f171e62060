import { z } from 'zod';
import { SchemeIdSchema } from '../ids.js';
import { WalletIdSchema } from '../protocol/ledger.js';
import { schemeProblems } from './scheme-checks.js';

export { HEALTH_SERVICE_KINDS, HEALTH_VENUE_TYPES } from './scheme-checks.js';

/**
 * Scheme definitions: versioned, validated data. One JSON file per scheme holds its
 * versions (see shared/schemes/). An event is evaluated under the version in force when
 * it happened (the highest version whose validFrom ≤ occurredAt, unless that version
 * has ended), whenever it arrives. Rule order is explicit: earning rules run in array
 * order, schemes in (priority, id) order. See README.md beside this file.
 */

/** Kinds of service the council runs; rules trigger on kinds or on named services. */
export const ServiceKindSchema = z.enum([
  'leisure',
  'library',
  'gp-drop-in',
  'learning',
  'community',
  'transport',
]);
export type ServiceKind = z.infer<typeof ServiceKindSchema>;

/** Kinds of venue; rules may trigger on them and redemptions may be limited to them. */
export const VenueTypeSchema = z.enum([
  'leisure-centre',
  'library',
  'health-centre',
  'college',
  'community-centre',
  'recycling-centre',
  'council-office',
]);
export type VenueType = z.infer<typeof VenueTypeSchema>;

/**
 * Age bands as the kiosk knows them. Mirrors AgeBandSchema in protocol/sync.ts (kept
 * here because sync.ts imports this module); engine.test.ts checks the two agree.
 */
export const SchemeAgeBandSchema = z.enum([
  '0-12',
  '13-19',
  '20-29',
  '30-44',
  '45-64',
  '65-74',
  '75+',
]);

export const PeriodSchema = z.enum(['day', 'week', 'month', 'year']);

const kebab = (what: string) =>
  z.string().regex(/^[a-z0-9][a-z0-9-]{0,60}$/, `${what} must be kebab-case (a-z, 0-9, -)`);

/** Rule ids are kebab-case and unique within a scheme (across all its rule lists). */
export const RuleIdSchema = kebab('rule id');

/**
 * Resident categories (care-leaver, in-education, prison-leaver …) and consents. A
 * category starting `health:` is health data: it may widen eligibility (anyOf/allOf)
 * for the resident's own benefit but never exclude anyone (noneOf).
 */
export const CategorySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9:-]{0,60}$/, 'category must be kebab-case (health: prefix allowed)');

const ServiceIdRef = z.string().regex(/^s-[a-z0-9-]{1,60}$/, 'service id must look like s-<name>');
const VenueIdRef = z.string().regex(/^v-[a-z0-9-]{1,60}$/, 'venue id must look like v-<name>');
const OutletIdRef = z
  .string()
  .regex(/^(o|v)-[a-z0-9-]{1,60}$/, 'outlet id must look like o-<name> (or a venue id v-<name>)');
const Instant = z.iso.datetime({ offset: true });

/** Amount bounds: amounts are integers in the wallet's unit (pence, points, minutes). */
const MAX_AMOUNT = 1_000_000_000;
/**
 * Signed on purpose: a negative amount parses, so that validation can refuse it with a
 * fairness reason rather than a bare type error.
 */
const SignedAmount = z.number().int().min(-MAX_AMOUNT).max(MAX_AMOUNT);
const PositiveAmount = z.number().int().min(1).max(MAX_AMOUNT);

export const EligibilitySchema = z
  .object({
    ageBands: z.array(SchemeAgeBandSchema).min(1).optional(),
    /** `resident`: only people living in the council area. Default: anyone. */
    residency: z.enum(['resident', 'any']).optional(),
    categories: z
      .object({
        anyOf: z.array(CategorySchema).min(1).optional(),
        allOf: z.array(CategorySchema).min(1).optional(),
        noneOf: z.array(CategorySchema).min(1).optional(),
      })
      .strict()
      .optional(),
    /** Consents the resident must have given (all of them). */
    consents: z.array(CategorySchema).min(1).optional(),
  })
  .strict();
export type Eligibility = z.infer<typeof EligibilitySchema>;

export const EarningTriggerSchema = z
  .object({
    /** Visits are taps; sessions are attended sessions with a duration (per-minute rules). */
    eventType: z.enum(['visit', 'session']),
    serviceKinds: z.array(ServiceKindSchema).min(1).optional(),
    serviceIds: z.array(ServiceIdRef).min(1).optional(),
    venueIds: z.array(VenueIdRef).min(1).optional(),
    venueTypes: z.array(VenueTypeSchema).min(1).optional(),
  })
  .strict();
export type EarningTrigger = z.infer<typeof EarningTriggerSchema>;

export const AmountSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), value: SignedAmount }).strict(),
  z
    .object({
      kind: z.literal('per-minute'),
      /** `amount` per `everyMinutes` minutes, pro rata, rounded down. */
      amount: SignedAmount,
      everyMinutes: z.number().int().min(1).max(1440),
      /** Minutes beyond this in one session earn nothing. */
      maxMinutes: z.number().int().min(1).max(1440).optional(),
    })
    .strict(),
]);
export type Amount = z.infer<typeof AmountSchema>;

const TimeOfDay = z
  .string()
  .regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'time of day must be HH:MM (24-hour, 24:00 allowed)');
export const DayNameSchema = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

export const OffPeakSchema = z
  .object({
    /** Europe/London local times; `from` inclusive, `to` exclusive. */
    windows: z
      .array(
        z.object({ days: z.array(DayNameSchema).min(1), from: TimeOfDay, to: TimeOfDay }).strict(),
      )
      .min(1)
      .max(20),
    /** Integer percentage: 200 doubles the amount. Result rounded down. */
    multiplierPercent: z.number().int().min(1).max(1000),
  })
  .strict();
export type OffPeak = z.infer<typeof OffPeakSchema>;

/** A per-resident limit in a Europe/London calendar period. */
export const LimitSchema = z
  .object({
    period: PeriodSchema,
    maxAmount: PositiveAmount.optional(),
    maxEvents: z.number().int().min(1).max(100_000).optional(),
  })
  .strict()
  .refine((l) => l.maxAmount !== undefined || l.maxEvents !== undefined, {
    message: 'a limit needs maxAmount or maxEvents',
  });
export type Limit = z.infer<typeof LimitSchema>;

/** "4 visits in 4 weeks": `count` qualifying events on distinct London days within `windowDays`. */
export const StreakSchema = z
  .object({
    count: z.number().int().min(2).max(366),
    windowDays: z.number().int().min(1).max(366),
    /** The achievement is granted at most once per this calendar period. */
    awardOncePer: PeriodSchema,
  })
  .strict();
export type Streak = z.infer<typeof StreakSchema>;

/**
 * When what a rule grants expires. `after-days`: at the start of the (days+1)th London
 * day after the day it was granted. `end-of-period`: at the start of the period after
 * the one it was granted in, plus `extra` periods.
 */
export const ExpirySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('never') }).strict(),
  z.object({ kind: z.literal('after-days'), days: z.number().int().min(0).max(3660) }).strict(),
  z
    .object({
      kind: z.literal('end-of-period'),
      period: PeriodSchema,
      extra: z.number().int().min(0).max(120).default(0),
    })
    .strict(),
]);
export type Expiry = z.infer<typeof ExpirySchema>;

const Window = {
  validFrom: Instant.optional(),
  validTo: Instant.optional(),
};

export const EarningRuleSchema = z
  .object({
    id: RuleIdSchema,
    description: z.string().max(300).optional(),
    trigger: EarningTriggerSchema,
    eligibility: EligibilitySchema.optional(),
    amount: AmountSchema,
    offPeak: OffPeakSchema.optional(),
    limits: z.array(LimitSchema).max(8).default([]),
    streak: StreakSchema.optional(),
    expiry: ExpirySchema.optional(),
    ...Window,
    /** `stop`: when this rule matches an event, the scheme's later earning rules are skipped. */
    then: z.enum(['continue', 'stop']).default('continue'),
  })
  .strict();
export type EarningRule = z.infer<typeof EarningRuleSchema>;

export const PriceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), amount: PositiveAmount }).strict(),
  /** The amount is entered at the till (vouchers), within these bounds. */
  z
    .object({ kind: z.literal('open'), min: PositiveAmount.default(1), max: PositiveAmount })
    .strict(),
]);
export type Price = z.infer<typeof PriceSchema>;

export const WhereSchema = z
  .object({
    serviceKinds: z.array(ServiceKindSchema).min(1).optional(),
    serviceIds: z.array(ServiceIdRef).min(1).optional(),
    venueIds: z.array(VenueIdRef).min(1).optional(),
    venueTypes: z.array(VenueTypeSchema).min(1).optional(),
    /** Approved outlets only. */
    outletIds: z.array(OutletIdRef).min(1).optional(),
    outletCategories: z.array(CategorySchema).min(1).optional(),
  })
  .strict();
export type Where = z.infer<typeof WhereSchema>;

export const RedemptionRuleSchema = z
  .object({
    id: RuleIdSchema,
    description: z.string().max(300).optional(),
    /** What it buys (swim-session, bus-day-ticket, work-clothes …). */
    item: kebab('item'),
    price: PriceSchema,
    where: WhereSchema.default({}),
    eligibility: EligibilitySchema.optional(),
    /** `staff`: always; `{ staffAbove }`: when the price is above that amount. */
    approval: z
      .union([z.enum(['none', 'staff']), z.object({ staffAbove: PositiveAmount }).strict()])
      .default('none'),
    ...Window,
  })
  .strict();
export type RedemptionRule = z.infer<typeof RedemptionRuleSchema>;

export const GrantRuleSchema = z.discriminatedUnion('kind', [
  /** A scheduled allowance to everyone eligible, at most once per resident per period. */
  z
    .object({
      kind: z.literal('allowance'),
      id: RuleIdSchema,
      description: z.string().max(300).optional(),
      period: PeriodSchema,
      amount: SignedAmount,
      eligibility: EligibilitySchema.optional(),
      expiry: ExpirySchema.optional(),
      ...Window,
    })
    .strict(),
  /** A one-off top-up for one resident, up to `maxAmount`. */
  z
    .object({
      kind: z.literal('top-up'),
      id: RuleIdSchema,
      description: z.string().max(300).optional(),
      maxAmount: SignedAmount,
      approval: z.enum(['staff', 'none']).default('staff'),
      eligibility: EligibilitySchema.optional(),
      limits: z.array(LimitSchema).max(8).default([]),
      expiry: ExpirySchema.optional(),
      ...Window,
    })
    .strict(),
]);
export type GrantRule = z.infer<typeof GrantRuleSchema>;

export const TimeBankSchema = z
  .object({
    /** How far below zero (minutes) a member's time-credit balance may go. */
    creditLimitMinutes: z.number().int().min(0).max(100_000),
    maxMinutesPerRecord: z.number().int().min(1).max(1440),
    /** Who may confirm the hours a giver recorded. */
    confirmers: z.array(z.enum(['receiver', 'organiser'])).min(1),
    eligibility: EligibilitySchema.optional(),
  })
  .strict();
export type TimeBank = z.infer<typeof TimeBankSchema>;

export const WardTargetSchema = z
  .object({
    id: RuleIdSchema,
    description: z.string().max(300).optional(),
    trigger: z.discriminatedUnion('eventType', [
      z
        .object({
          eventType: z.literal('ward-contribution'),
          measures: z.array(kebab('measure')).min(1),
        })
        .strict(),
      EarningTriggerSchema,
    ]),
    /** Which ward an event counts for: the contribution's ward, the venue's, or the resident's home ward. */
    ward: z.enum(['event', 'venue', 'resident-home']),
    period: PeriodSchema,
    /** Quantity (contribution units, or 1 per visit) the ward must reach in the period. */
    target: z.number().int().min(1).max(MAX_AMOUNT),
    /** Paid once per ward per period into the ward's account, in the scheme's wallet. */
    reward: SignedAmount,
  })
  .strict();
export type WardTarget = z.infer<typeof WardTargetSchema>;

export const BudgetSchema = z
  .object({
    amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    period: z.enum(['total', 'year', 'month']),
  })
  .strict();
export type Budget = z.infer<typeof BudgetSchema>;

/** The structure of a scheme version, without the cross-field and fairness checks. */
export const SchemeStructureSchema = z
  .object({
    id: SchemeIdSchema,
    version: z.number().int().min(1),
    name: z.string().min(1).max(120),
    description: z.string().max(1000).optional(),
    wallet: WalletIdSchema,
    validFrom: Instant,
    validTo: Instant.optional(),
    /** Schemes run in (priority, id) order; lower first. */
    priority: z.number().int().min(0).max(1000).default(100),
    /** Caps what the scheme pays out (earning, grants, awards) per period. */
    budget: BudgetSchema.optional(),
    /** Per-resident limits across all of the scheme's earning rules (and time given). */
    limits: z.array(LimitSchema).max(8).default([]),
    /** Default expiry of what the scheme grants; a rule may override. */
    expiry: ExpirySchema.default({ kind: 'never' }),
    /** Evaluated in this order; the order is part of the definition. */
    earning: z.array(EarningRuleSchema).max(100).default([]),
    redemption: z
      .object({
        /** Amount per card a kiosk may let be redeemed while offline, between syncs. */
        offlineAllowance: z.number().int().min(0).max(MAX_AMOUNT),
        rules: z.array(RedemptionRuleSchema).max(100),
      })
      .strict()
      .default({ offlineAllowance: 0, rules: [] }),
    grants: z.array(GrantRuleSchema).max(50).default([]),
    timeBank: TimeBankSchema.optional(),
    wardTargets: z.array(WardTargetSchema).max(50).default([]),
  })
  .strict();
export type SchemeStructure = z.infer<typeof SchemeStructureSchema>;

/**
 * A scheme version as accepted everywhere (backend admin, pull pages, kiosk store):
 * the structure plus the consistency and fairness checks of scheme-checks.ts. A scheme
 * that breaks a fairness rule is refused with an issue that says why.
 */
export const SchemeDefinitionSchema = SchemeStructureSchema.superRefine((scheme, ctx) => {
  for (const p of schemeProblems(scheme)) {
    ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  }
});
export type SchemeDefinition = z.infer<typeof SchemeDefinitionSchema>;
/** The JSON a scheme author writes (defaults not yet filled in). */
export type SchemeDefinitionInput = z.input<typeof SchemeDefinitionSchema>;

/** A scheme file: every version of one scheme, oldest first. */
export const SchemeFileSchema = z
  .array(SchemeDefinitionSchema)
  .min(1)
  .superRefine((versions, ctx) => {
    const first = versions[0];
    versions.forEach((v, i) => {
      if (first && v.id !== first.id) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'id'],
          message: `every version in a file must have id "${first.id}"`,
        });
      }
      const prev = versions[i - 1];
      if (prev && v.version <= prev.version) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'version'],
          message: 'versions must be listed in increasing order',
        });
      }
    });
  });

export interface SchemeProblem {
  path: (string | number)[];
  /** `invalid`: malformed or inconsistent; `unfair`: breaks a fairness guardrail. */
  kind: 'invalid' | 'unfair';
  message: string;
}

export type SchemeValidation =
  { ok: true; scheme: SchemeDefinition } | { ok: false; problems: SchemeProblem[] };

/**
 * Validates one scheme version and says, in plain words, everything that is wrong with
 * it. Unfair schemes are refused with `kind: 'unfair'` problems.
 */
export function validateScheme(input: unknown): SchemeValidation {
  const r = SchemeDefinitionSchema.safeParse(input);
  if (r.success) return { ok: true, scheme: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) => ({
      path: i.path.filter((p): p is string | number => typeof p !== 'symbol'),
      kind: i.message.startsWith('Unfair:') ? 'unfair' : 'invalid',
      message: i.message,
    })),
  };
}

/** Human-readable one-problem-per-line summary, for CLIs and admin screens. */
export function formatSchemeProblems(problems: readonly SchemeProblem[]): string {
  return problems
    .map((p) => `${p.path.length > 0 ? p.path.join('.') : '(scheme)'}: ${p.message}`)
    .join('\n');
}
