import type { EvaluationContext, ProfileAgeBand, ServiceKind, VenueType } from '@clubcard/shared';
import type { LocalService, LocalVenue } from '../store/kiosk-store.js';

/**
 * What the rules engine knows at this kiosk about an event of one resident: the kiosk's
 * service and venue, and the little the kiosk holds about the resident (age band). The
 * backend's context is fuller (categories, consents, home ward) and its answer wins.
 */
export function kioskContext(
  venue: LocalVenue,
  service: LocalService,
  resident: { residentRef: string; ageBand: string },
): EvaluationContext {
  return {
    service: { id: service.id, kind: service.kind as ServiceKind },
    venue: { id: venue.id, type: venue.type as VenueType | null, ward: venue.ward },
    profiles: {
      [resident.residentRef]: {
        ageBand: resident.ageBand as ProfileAgeBand,
        resident: true,
        homeWard: null,
        categories: [],
        consents: [],
      },
    },
  };
}
