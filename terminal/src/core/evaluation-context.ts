import type {
  EvaluationContext,
  ProfileAgeBand,
  ResidentProfile,
  ServiceKind,
  VenueType,
} from '@clubcard/shared';
import type { LocalEligibility, LocalService, LocalVenue } from '../store/kiosk-store.js';

/** A resident as the engine sees them at this kiosk. */
export type KioskResident = { residentRef: string } & LocalEligibility;

/** The engine's profile of a resident from what this kiosk holds (no home ward). */
export function kioskProfile(r: LocalEligibility): ResidentProfile {
  return {
    ageBand: r.ageBand as ProfileAgeBand,
    resident: true,
    homeWard: null,
    categories: r.categories,
    consents: r.consents,
  };
}

/**
 * What the rules engine knows at this kiosk about an event of one resident: the kiosk's
 * service and venue, and the little the kiosk holds about the resident (age band, and
 * the categories and consents published schemes use), and about the other residents the
 * event concerns (the giver and receiver of time-bank events). The backend's context is
 * fuller (home ward, anything no scheme uses) and its answer wins.
 */
export function kioskContext(
  venue: LocalVenue,
  service: LocalService,
  resident: KioskResident,
  others: readonly KioskResident[] = [],
): EvaluationContext {
  const profile = kioskProfile(resident);
  const ctx: EvaluationContext = {
    service: { id: service.id, kind: service.kind as ServiceKind },
    venue: { id: venue.id, type: venue.type as VenueType | null, ward: venue.ward },
    profile,
  };
  if (others.length > 0) {
    // A Map: resident refs as object keys would give the runtime a shape per resident.
    const profiles = new Map<string, ResidentProfile>();
    for (const r of others) profiles.set(r.residentRef, kioskProfile(r));
    profiles.set(resident.residentRef, profile);
    ctx.profiles = profiles;
  }
  return ctx;
}
