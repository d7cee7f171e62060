import { z } from 'zod';
import { ErrorCodeSchema } from '../errors.js';
import {
  CardHashSchema,
  EventIdSchema,
  KioskIdSchema,
  ResidentRefSchema,
  ServiceIdSchema,
  VenueIdSchema,
} from '../ids.js';
import {
  CategorySchema,
  SchemeDefinitionSchema,
  ServiceKindSchema,
  type Eligibility,
  type SchemeDefinition,
} from '../rules/scheme.js';
import { LedgerLineSchema, WalletIdSchema } from './ledger.js';

/**
 * The protocol version this code speaks. Older versions stay accepted by the backend;
 * anything synced changes additively only.
 */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

export const MAX_PUSH_EVENTS = 500;
/** Largest push body the backend reads (bytes). */
export const MAX_PUSH_BYTES = 1024 * 1024;
export const MAX_PULL_ITEMS = 2000;
/** Largest pull page a kiosk will accept (bytes). */
export const MAX_PULL_BYTES = 4 * 1024 * 1024;
/** A signed request must be within this of the backend clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * Push envelope. Events are carried as unknown here and validated one by one, so one
 * bad event is rejected (and settled) without stalling the batch.
 */
export const PushRequestSchema = z.object({
  protocol: z.number().int().min(1),
  kioskId: KioskIdSchema,
  events: z.array(z.unknown()).min(1).max(MAX_PUSH_EVENTS),
});
export type PushRequest = z.infer<typeof PushRequestSchema>;

export const EventResultSchema = z.object({
  id: EventIdSchema,
  seq: z.number().int().min(1),
  status: z.enum(['accepted', 'duplicate', 'rejected']),
  code: ErrorCodeSchema.optional(),
  reason: z.string().max(500).optional(),
  /** Authoritative ledger lines for this event (also on duplicates). */
  lines: z.array(LedgerLineSchema),
});
export type EventResult = z.infer<typeof EventResultSchema>;

export const PushResponseSchema = z.object({
  protocol: z.number().int(),
  kioskId: KioskIdSchema,
  /** Highest sequence up to which every event of this kiosk is settled. */
  ackSeq: z.number().int().min(0),
  results: z.array(EventResultSchema),
  serverTime: z.number().int(),
});
export type PushResponse = z.infer<typeof PushResponseSchema>;

export const CardStatusSchema = z.enum(['active', 'blocked']);

export const AgeBandSchema = z.enum(['0-12', '13-19', '20-29', '30-44', '45-64', '65-74', '75+']);
export type AgeBand = z.infer<typeof AgeBandSchema>;

/**
 * Is this category or consent about health (a `health:` category, a GP or health consent
 * purpose such as segmentation-health)? Such values never leave the backend for a kiosk.
 */
export function isHealthAttribute(value: string): boolean {
  return value.split(/[:-]/).some((part) => part === 'gp' || part === 'health');
}

/** At most this many categories (and as many consents) are sent for one resident. */
export const MAX_SYNCED_ATTRIBUTES = 50;

const SyncedAttributeSchema = CategorySchema.refine(
  (v) => !isHealthAttribute(v),
  'health-related categories and consents are never synced to kiosks',
);

/**
 * The categories and consents that some published scheme version's eligibility reads
 * (earning, redemption, grants, time bank), health-related ones left out: the only ones
 * a kiosk may be told of a resident.
 */
export function eligibilityAttributesOf(schemes: readonly SchemeDefinition[]): {
  categories: Set<string>;
  consents: Set<string>;
} {
  const categories = new Set<string>();
  const consents = new Set<string>();
  const add = (e: Eligibility | undefined): void => {
    const c = e?.categories;
    for (const v of [...(c?.anyOf ?? []), ...(c?.allOf ?? []), ...(c?.noneOf ?? [])]) {
      if (!isHealthAttribute(v)) categories.add(v);
    }
    for (const v of e?.consents ?? []) if (!isHealthAttribute(v)) consents.add(v);
  };
  for (const s of schemes) {
    for (const r of s.earning) add(r.eligibility);
    for (const r of s.redemption.rules) add(r.eligibility);
    for (const g of s.grants) add(g.eligibility);
    add(s.timeBank?.eligibility);
  }
  return { categories, consents };
}

export const SyncedCardSchema = z.object({
  cardHash: CardHashSchema,
  residentRef: ResidentRefSchema,
  status: CardStatusSchema,
  /** Display first name at most; may be absent. */
  firstName: z.string().max(40).nullable(),
  ageBand: AgeBandSchema,
  /** How the card was issued: a secure card must always prove itself (added in v1, optional). */
  technology: z.enum(['ntag424', 'desfire', 'ntag21x', 'hid-fob', 'simulated']).optional(),
  /** Highest SUN read counter the council has seen for this card (anti-replay). */
  highestCounter: z.number().int().min(0).max(0xffffff).nullable().optional(),
  /**
   * The resident's eligibility categories that some published scheme uses, never health
   * data; the list replaces what the kiosk held (added in v1, optional: older backends do
   * not send it).
   */
  categories: z.array(SyncedAttributeSchema).max(MAX_SYNCED_ATTRIBUTES).optional(),
  /** The resident's consents that some published scheme's eligibility needs (like categories). */
  consents: z.array(SyncedAttributeSchema).max(MAX_SYNCED_ATTRIBUTES).optional(),
});
export type SyncedCard = z.infer<typeof SyncedCardSchema>;

export const SyncedBalanceSchema = z.object({
  residentRef: ResidentRefSchema,
  wallet: WalletIdSchema,
  amount: z.number().int(),
});
export type SyncedBalance = z.infer<typeof SyncedBalanceSchema>;

export const SyncedServiceSchema = z.object({
  id: ServiceIdSchema,
  name: z.string().min(1).max(120),
  kind: ServiceKindSchema,
});
export type SyncedService = z.infer<typeof SyncedServiceSchema>;

export const SyncedVenueSchema = z.object({
  id: VenueIdSchema,
  name: z.string().min(1).max(120),
  /** Legacy policy: may plain-UID cards be accepted here? */
  allowUidOnly: z.boolean(),
  services: z.array(ServiceIdSchema),
  /** Venue type and ward, for rules that filter on them (optional: added in v1). */
  type: z.string().max(40).optional(),
  ward: z.string().max(60).optional(),
});
export type SyncedVenue = z.infer<typeof SyncedVenueSchema>;

/**
 * A staff member as kiosks need them for staff mode offline: PIN as a hash only (PBKDF2,
 * parameters in the string), staff cards as card hashes (added in v1, optional).
 */
export const SyncedStaffSchema = z.object({
  staffRef: z.string().regex(/^st-[a-z0-9-]{1,60}$/),
  firstName: z.string().min(1).max(40),
  pinHash: z.string().max(200),
  /** Venue ids, or ['*'] for every venue. */
  venues: z.array(z.string().max(80)).max(200),
  status: z.enum(['active', 'disabled']),
  cards: z.array(z.object({ cardHash: CardHashSchema, status: CardStatusSchema })).max(20),
});
export type SyncedStaff = z.infer<typeof SyncedStaffSchema>;

/** A targeted offer's id, e.g. of-5f3a9c1d2e4b. */
export const OfferIdSchema = z
  .string()
  .regex(/^of-[a-z0-9]{1,60}$/, 'offer id must look like of-<id>')
  .brand<'OfferId'>();
export type OfferId = z.infer<typeof OfferIdSchema>;

/** Offer text in English and Welsh: the kiosk shows the resident's language. */
export const OfferTextSchema = z.object({
  en: z.string().min(1).max(200),
  cy: z.string().min(1).max(200),
});
export type OfferText = z.infer<typeof OfferTextSchema>;

/**
 * A targeted offer as kiosks hold it (added in v1, optional). Dates are London dates,
 * inclusive; a kiosk shows it only while active and within them.
 */
export const SyncedOfferSchema = z.object({
  id: OfferIdSchema,
  title: OfferTextSchema,
  detail: OfferTextSchema.nullable(),
  serviceId: ServiceIdSchema.nullable(),
  startsOn: z.iso.date(),
  endsOn: z.iso.date().nullable(),
  status: z.enum(['active', 'retired']),
});
export type SyncedOffer = z.infer<typeof SyncedOfferSchema>;

/** At most this many offers are sent for one resident. */
export const MAX_OFFERS_PER_RESIDENT = 20;

/**
 * The offers that target one resident (only residents the kiosk's venue has seen). The
 * list replaces what the kiosk held for them; empty means none.
 */
export const SyncedOfferResidentSchema = z.object({
  residentRef: ResidentRefSchema,
  offerIds: z.array(OfferIdSchema).max(MAX_OFFERS_PER_RESIDENT),
});
export type SyncedOfferResident = z.infer<typeof SyncedOfferResidentSchema>;

/** One page of changes since a cursor, signed by the backend. */
export const PullPageSchema = z.object({
  protocol: z.number().int(),
  kioskId: KioskIdSchema,
  cursor: z.number().int().min(0),
  nextCursor: z.number().int().min(0),
  hasMore: z.boolean(),
  serverTime: z.number().int(),
  cards: z.array(SyncedCardSchema).max(MAX_PULL_ITEMS),
  balances: z.array(SyncedBalanceSchema).max(MAX_PULL_ITEMS),
  schemes: z.array(SchemeDefinitionSchema).max(MAX_PULL_ITEMS),
  services: z.array(SyncedServiceSchema).max(MAX_PULL_ITEMS),
  venues: z.array(SyncedVenueSchema).max(MAX_PULL_ITEMS),
  /** Staff accounts for offline staff mode (optional: v1 backends do not send it). */
  staff: z.array(SyncedStaffSchema).max(MAX_PULL_ITEMS).optional(),
  /** Targeted offers (optional: older backends do not send them). */
  offers: z.array(SyncedOfferSchema).max(MAX_PULL_ITEMS).optional(),
  /** Which offers target residents this venue has seen (optional, like offers). */
  offerResidents: z.array(SyncedOfferResidentSchema).max(MAX_PULL_ITEMS).optional(),
});
export type PullPage = z.infer<typeof PullPageSchema>;

export const RegisterKioskRequestSchema = z.object({
  protocol: z.number().int().min(1),
  code: z.string().regex(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/, 'code looks like XXXX-XXXX-XXXX'),
  /** Ed25519 public key, SPKI DER, base64. */
  publicKey: z.string().min(40).max(200),
});
export type RegisterKioskRequest = z.infer<typeof RegisterKioskRequestSchema>;

export const RegisterKioskResponseSchema = z.object({
  kioskId: KioskIdSchema,
  venueId: VenueIdSchema,
  /** The service this kiosk records. */
  serviceId: ServiceIdSchema,
  /** Backend's Ed25519 public key (SPKI DER, base64): verifies pull pages. */
  backendPublicKey: z.string(),
  /** Council key for hashing card UIDs (hex). A kiosk never stores raw UIDs. */
  cardHashKey: z.string().regex(/^[0-9a-f]{64}$/),
});
export type RegisterKioskResponse = z.infer<typeof RegisterKioskResponseSchema>;

export const ClockSkewDetailsSchema = z.object({ serverTime: z.number().int() });
