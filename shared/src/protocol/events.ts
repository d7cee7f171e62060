import { z } from 'zod';
import {
  CardHashSchema,
  EventIdSchema,
  KioskIdSchema,
  ResidentRefSchema,
  ServiceIdSchema,
  VenueIdSchema,
} from '../ids.js';

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
 * Every event a kiosk can send. A discriminated union on `type`: new event types are
 * added (never changed) as the protocol grows, so old kiosks stay valid.
 */
export const KioskEventSchema = z.discriminatedUnion('type', [VisitEventSchema]);
export type KioskEvent = z.infer<typeof KioskEventSchema>;
export type KioskEventType = KioskEvent['type'];

/** The least the backend needs to settle an event it cannot otherwise parse. */
export const EventHeaderSchema = z.object({
  id: EventIdSchema,
  seq: EventBase.seq,
});
