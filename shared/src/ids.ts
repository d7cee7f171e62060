import { z } from 'zod';
import { v7 as uuidv7, version as uuidVersion, validate as uuidValidate } from 'uuid';

/**
 * Branded identifiers: a kiosk id can never be passed where a card hash is expected.
 * Each brand has one zod schema that gives both the runtime check and the type.
 */
export const KioskIdSchema = z
  .string()
  .regex(/^k-[a-z0-9-]{1,60}$/, 'kiosk id must look like k-<name>')
  .brand<'KioskId'>();
export type KioskId = z.infer<typeof KioskIdSchema>;

export const VenueIdSchema = z
  .string()
  .regex(/^v-[a-z0-9-]{1,60}$/, 'venue id must look like v-<name>')
  .brand<'VenueId'>();
export type VenueId = z.infer<typeof VenueIdSchema>;

export const ServiceIdSchema = z
  .string()
  .regex(/^s-[a-z0-9-]{1,60}$/, 'service id must look like s-<name>')
  .brand<'ServiceId'>();
export type ServiceId = z.infer<typeof ServiceIdSchema>;

/** Pseudonymous resident reference: never a name, never derived from a card UID. */
export const ResidentRefSchema = z
  .string()
  .regex(/^r-[a-z0-9]{8,40}$/, 'resident ref must look like r-<base32>')
  .brand<'ResidentRef'>();
export type ResidentRef = z.infer<typeof ResidentRefSchema>;

/** HMAC-SHA256 of the card UID under the council card-hash key, lowercase hex. */
export const CardHashSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'card hash must be 64 lowercase hex digits')
  .brand<'CardHash'>();
export type CardHash = z.infer<typeof CardHashSchema>;

/** Event ids are UUIDv7 (RFC 9562): time-ordered, generated on the kiosk. */
export const EventIdSchema = z
  .string()
  .refine((s) => uuidValidate(s) && uuidVersion(s) === 7 && s === s.toLowerCase(), {
    message: 'event id must be a lowercase UUIDv7',
  })
  .brand<'EventId'>();
export type EventId = z.infer<typeof EventIdSchema>;

export const SchemeIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,60}$/, 'scheme id must be kebab-case')
  .brand<'SchemeId'>();
export type SchemeId = z.infer<typeof SchemeIdSchema>;

export function newEventId(): EventId {
  return uuidv7() as EventId;
}

/** Milliseconds since the epoch encoded in a UUIDv7's first 48 bits. */
export function eventIdTime(id: EventId): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
