import { z } from 'zod';
import {
  CardHashSchema,
  EventIdSchema,
  KioskIdSchema,
  ResidentRefSchema,
  SchemeIdSchema,
  ServiceIdSchema,
  VenueIdSchema,
} from '../ids.js';
import { RuleIdSchema } from '../rules/scheme.js';
import { WalletIdSchema } from './ledger.js';
import { AgeBandSchema } from './sync.js';

/** A staff member, as recorded on approvals (staff card + PIN at the kiosk). */
export const StaffRefSchema = z
  .string()
  .regex(/^st-[a-z0-9-]{1,60}$/, 'staff ref must look like st-<name>')
  .brand<'StaffRef'>();
export type StaffRef = z.infer<typeof StaffRefSchema>;

/** How the card proved itself at the reader. Recorded on every event. */
export const AuthMethodSchema = z.enum([
  'sun', // NTAG 424 DNA Secure Unique NFC message (AES-CMAC over UID + counter)
  'ev2', // AES mutual authentication (AuthenticateEV2First)
  'uid-only', // plain UID card, accepted only under a venue's legacy policy
  'hid-fob', // 125 kHz fob or barcode read through a HID reader (identifier only)
  'staff-manual', // card forgotten: a staff member recorded the visit by hand
  'simulated', // demo and test reader
]);
export type AuthMethod = z.infer<typeof AuthMethodSchema>;

export const CardAuthSchema = z.object({
  method: AuthMethodSchema,
  /** Read-key version the card was verified under (secure cards only). */
  keyVersion: z.number().int().min(0).max(255).nullable(),
  /** SUN read counter seen on this tap (24-bit), for replay detection. */
  counter: z.number().int().min(0).max(0xffffff).nullable(),
  /**
   * `staff-manual` only: the staff member (staff card + PIN) who recorded the visit by
   * hand (added; optional).
   */
  staffRef: StaffRefSchema.optional(),
});
export type CardAuth = z.infer<typeof CardAuthSchema>;

/** ISO 8601 instant with an explicit offset, as the kiosk's clock saw it. */
export const InstantSchema = z.iso.datetime({ offset: true });

const EventBase = {
  id: EventIdSchema,
  kioskId: KioskIdSchema,
  /** Gap-free per-kiosk sequence, from 1. */
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  occurredAt: InstantSchema,
  venueId: VenueIdSchema,
};

/** A resident used a service: the core fact the whole system is built on. */
export const VisitEventSchema = z.object({
  ...EventBase,
  type: z.literal('visit'),
  cardHash: CardHashSchema,
  residentRef: ResidentRefSchema,
  serviceId: ServiceIdSchema,
  auth: CardAuthSchema,
  /** True when staff helped (e.g. recorded by hand). */
  assisted: z.boolean(),
});
export type VisitEvent = z.infer<typeof VisitEventSchema>;

/**
 * A ward (neighbourhood) as residents and venues name it, e.g. `riverside`; its account
 * `ward:riverside` holds the neighbourhood budget (the same ward whichever way a target
 * finds it: from the event, the venue or the resident's home).
 */
export const WardIdSchema = z
  .string()
  .regex(/^[a-z0-9-]{1,60}$/, 'ward id must be the ward as the council names it (a-z, 0-9, -)')
  .brand<'WardId'>();
export type WardId = z.infer<typeof WardIdSchema>;

/** Where a redemption is paid: an approved outlet (o-<name>) or a council venue (v-<name>). */
export const OutletIdSchema = z
  .string()
  .regex(/^(o|v)-[a-z0-9-]{1,60}$/, 'outlet id must look like o-<name> or v-<name>')
  .brand<'OutletId'>();
export type OutletId = z.infer<typeof OutletIdSchema>;

/**
 * Fields of every event made by a card tap at a kiosk: whose card, which service the
 * kiosk serves, how the card proved itself.
 */
const CardTap = {
  cardHash: CardHashSchema,
  residentRef: ResidentRefSchema,
  serviceId: ServiceIdSchema,
  auth: CardAuthSchema,
};

/** An attended session with a duration (a class, a volunteering shift): per-minute rules. */
export const SessionEventSchema = z.object({
  ...EventBase,
  ...CardTap,
  type: z.literal('session'),
  assisted: z.boolean(),
  minutes: z.number().int().min(1).max(1440),
});
export type SessionEvent = z.infer<typeof SessionEventSchema>;

/**
 * A resident spent from a wallet. The kiosk checked the redemption (checkRedemption) and
 * the goods or service were handed over, so the backend always records it; if it
 * overdraws or breaks a restriction the result is flagged for staff.
 */
export const RedemptionEventSchema = z.object({
  ...EventBase,
  ...CardTap,
  type: z.literal('redemption'),
  wallet: WalletIdSchema,
  /** The scheme and redemption rule the kiosk offered. */
  schemeId: SchemeIdSchema,
  ruleId: RuleIdSchema,
  /** Null: paid to the venue itself. */
  outletId: OutletIdSchema.nullable(),
  quantity: z.number().int().min(1).max(100),
  /** Total charged, in the wallet's unit. */
  amount: z.number().int().min(1).max(1_000_000_000),
  /** True when the kiosk decided without the backend (offline allowance applies). */
  offline: z.boolean(),
  approvedBy: StaffRefSchema.nullable(),
});
export type RedemptionEvent = z.infer<typeof RedemptionEventSchema>;

/** A time-bank member (the giver, whose card this is) records time given to another member. */
export const TimeRecordEventSchema = z.object({
  ...EventBase,
  ...CardTap,
  type: z.literal('time-record'),
  schemeId: SchemeIdSchema,
  receiverRef: ResidentRefSchema,
  minutes: z.number().int().min(1).max(1440),
  activity: z.string().min(1).max(80),
});
export type TimeRecordEvent = z.infer<typeof TimeRecordEventSchema>;

/**
 * Confirms a time record. By the receiver: their own card (residentRef = receiverRef).
 * By an organiser: in staff mode (staffRef), with the card of whichever member is present.
 * May arrive before the record it confirms; the engine settles when both are in.
 */
export const TimeConfirmEventSchema = z
  .object({
    ...EventBase,
    ...CardTap,
    type: z.literal('time-confirm'),
    schemeId: SchemeIdSchema,
    recordId: EventIdSchema,
    giverRef: ResidentRefSchema,
    receiverRef: ResidentRefSchema,
    confirmedBy: z.enum(['receiver', 'organiser']),
    staffRef: StaffRefSchema.nullable(),
  })
  .superRefine((e, ctx) => {
    if (e.confirmedBy === 'receiver' && e.residentRef !== e.receiverRef) {
      ctx.addIssue({
        code: 'custom',
        path: ['residentRef'],
        message: 'a receiver confirms with their own card',
      });
    }
    if (e.confirmedBy === 'organiser' && e.staffRef === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['staffRef'],
        message: 'an organiser confirmation names the staff member',
      });
    }
  });
export type TimeConfirmEvent = z.infer<typeof TimeConfirmEventSchema>;

/** A one-off top-up for the resident present, approved by staff at the kiosk. */
export const GrantEventSchema = z.object({
  ...EventBase,
  ...CardTap,
  type: z.literal('grant'),
  schemeId: SchemeIdSchema,
  grantId: RuleIdSchema,
  amount: z.number().int().min(1).max(1_000_000_000),
  approvedBy: StaffRefSchema.nullable(),
});
export type GrantEvent = z.infer<typeof GrantEventSchema>;

/** A resident's contribution to a ward target (e.g. kilograms of recycling weighed in). */
export const WardContributionEventSchema = z.object({
  ...EventBase,
  ...CardTap,
  type: z.literal('ward-contribution'),
  wardId: WardIdSchema,
  measure: z.string().regex(/^[a-z0-9][a-z0-9-]{0,60}$/, 'measure must be kebab-case'),
  quantity: z.number().int().min(1).max(1_000_000),
});
export type WardContributionEvent = z.infer<typeof WardContributionEventSchema>;

/**
 * Every event a kiosk can send. A discriminated union on `type`: new event types are
 * added (never changed) as the protocol grows, so old kiosks stay valid.
 */
export const KioskEventSchema = z.discriminatedUnion('type', [
  VisitEventSchema,
  SessionEventSchema,
  RedemptionEventSchema,
  TimeRecordEventSchema,
  TimeConfirmEventSchema,
  GrantEventSchema,
  WardContributionEventSchema,
]);
export type KioskEvent = z.infer<typeof KioskEventSchema>;
export type KioskEventType = KioskEvent['type'];

/**
 * Purposes a resident can consent to, each given or withdrawn on its own:
 * - analytics: attributes they volunteer may be counted in the council's aggregate
 *   analytics (never shown per person);
 * - segmentation-health: their GP drop-in visits may feed segmentation;
 * - contact: the council may contact them about services.
 */
export const ConsentPurposeSchema = z.enum(['analytics', 'segmentation-health', 'contact']);
export type ConsentPurpose = z.infer<typeof ConsentPurposeSchema>;

/** Attributes a resident may choose to tell the council. A closed set: nothing free-form. */
export const VolunteeredAttributeSchema = z.enum([
  'carer',
  'veteran',
  'student',
  'new-to-area',
  'welsh-speaker',
  'access-needs',
]);
export type VolunteeredAttribute = z.infer<typeof VolunteeredAttributeSchema>;

/**
 * A resident gave or withdrew consent for one purpose (at the kiosk, with staff help or
 * by themselves), optionally stating the attributes they volunteer. Not a card tap: the
 * resident may have been found at the desk without their card. The rules engine ignores it.
 */
export const ConsentEventSchema = z.object({
  ...EventBase,
  type: z.literal('consent'),
  residentRef: ResidentRefSchema,
  purpose: ConsentPurposeSchema,
  given: z.boolean(),
  /** The complete set of attributes volunteered from now on; null leaves them unchanged. */
  attributes: z
    .array(VolunteeredAttributeSchema)
    .max(VolunteeredAttributeSchema.options.length)
    .refine((a) => new Set(a).size === a.length, 'attributes must not repeat')
    .nullable(),
  /** The staff member who helped, or null when the resident did it themselves. */
  assistedBy: StaffRefSchema.nullable(),
});
export type ConsentEvent = z.infer<typeof ConsentEventSchema>;

/** How a card was made, as the council records it (a secure card must always prove itself). */
export const CardTechnologySchema = z.enum([
  'ntag424',
  'desfire',
  'ntag21x',
  'hid-fob',
  'simulated',
]);
export type CardTechnology = z.infer<typeof CardTechnologySchema>;

/** A card issued at an enrolment desk: to whom, which card, what kind, by which staff member. */
const CardIssued = {
  residentRef: ResidentRefSchema,
  cardHash: CardHashSchema,
  technology: CardTechnologySchema,
  staffRef: StaffRefSchema,
  /**
   * Read-key version of a secure card personalised at the desk (absent or null for a card
   * that proves nothing). Optional: desks that predate it do not send it.
   */
  keyVersion: z.number().int().min(0).max(255).nullable().optional(),
  /**
   * SUN read counter of the desk's read-back of a secure card: the highest counter seen
   * so far, so that the read-back's SUN message cannot be replayed as a tap. Optional:
   * desks that predate it do not send it.
   */
  counter: z.number().int().min(0).max(0xffffff).nullable().optional(),
};

/**
 * A new resident enrolled at an enrolment desk, with the card just issued to them. The
 * kiosk generates the pseudonymous ref (r- and a UUIDv7 in hex), so the resident can use
 * the card at once, offline. No rules engine: it moves no credit.
 */
export const EnrolmentEventSchema = z.object({
  ...EventBase,
  ...CardIssued,
  type: z.literal('enrolment'),
  /** Display first name at most; may be absent. */
  firstName: z.string().trim().min(1).max(40).nullable(),
  ageBand: AgeBandSchema,
});
export type EnrolmentEvent = z.infer<typeof EnrolmentEventSchema>;

/**
 * A lost card replaced at an enrolment desk: the new card is bound to the resident and
 * the cards it replaces are hotlisted (at the kiosk at once, at the backend on
 * ingestion). Balances belong to the resident, not the card, so they follow.
 */
export const CardReplacementEventSchema = z.object({
  ...EventBase,
  ...CardIssued,
  type: z.literal('card-replacement'),
  /** The resident's cards the kiosk knew as active: each is blocked. */
  replacedCardHashes: z.array(CardHashSchema).max(20),
});
export type CardReplacementEvent = z.infer<typeof CardReplacementEventSchema>;

/** Events of the staff desk that are about residents and cards, not services used. */
export const DeskEventSchema = z.discriminatedUnion('type', [
  EnrolmentEventSchema,
  CardReplacementEventSchema,
]);
export type DeskEvent = z.infer<typeof DeskEventSchema>;

/**
 * Everything a kiosk may push: the card events above and records the rules engine does
 * not evaluate (consent, the enrolment desk's events). Ingestion and the outbox take
 * this; the engine takes KioskEvent.
 */
export const PushedEventSchema = z.discriminatedUnion('type', [
  ...KioskEventSchema.options,
  ConsentEventSchema,
  ...DeskEventSchema.options,
]);
export type PushedEvent = z.infer<typeof PushedEventSchema>;

/**
 * Events the backend makes itself (scheduler, housekeeping). `kioskId` names the
 * issuing source (e.g. k-council) and `seq` is that source's own gap-free sequence, so
 * the canonical order (occurredAt, kioskId, seq) covers them too.
 */
const CouncilEventBase = {
  id: EventIdSchema,
  kioskId: KioskIdSchema,
  seq: EventBase.seq,
  occurredAt: InstantSchema,
};

/** A scheduled allowance for one eligible resident (one per resident per period). */
export const AllowanceEventSchema = z.object({
  ...CouncilEventBase,
  type: z.literal('allowance'),
  residentRef: ResidentRefSchema,
  schemeId: SchemeIdSchema,
  grantId: RuleIdSchema,
});
export type AllowanceEvent = z.infer<typeof AllowanceEventSchema>;

/** Moves the resident's clock to occurredAt, expiring what has expired by then. */
export const ExpirySweepEventSchema = z.object({
  ...CouncilEventBase,
  type: z.literal('expiry-sweep'),
  residentRef: ResidentRefSchema,
});
export type ExpirySweepEvent = z.infer<typeof ExpirySweepEventSchema>;

export const CouncilEventSchema = z.discriminatedUnion('type', [
  AllowanceEventSchema,
  ExpirySweepEventSchema,
]);
export type CouncilEvent = z.infer<typeof CouncilEventSchema>;

/** Everything the rules engine evaluates: kiosk events and the council's own. */
export const EngineEventSchema = z.discriminatedUnion('type', [
  VisitEventSchema,
  SessionEventSchema,
  RedemptionEventSchema,
  TimeRecordEventSchema,
  TimeConfirmEventSchema,
  GrantEventSchema,
  WardContributionEventSchema,
  AllowanceEventSchema,
  ExpirySweepEventSchema,
]);
export type EngineEvent = z.infer<typeof EngineEventSchema>;
export type EngineEventType = EngineEvent['type'];

/** The least the backend needs to settle an event it cannot otherwise parse. */
export const EventHeaderSchema = z.object({
  id: EventIdSchema,
  seq: EventBase.seq,
});
