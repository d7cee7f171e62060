import type {
  EvaluationContext,
  KioskEvent,
  ResidentProfile,
  ServiceKind,
  VenueType,
} from '@clubcard/shared';
import type { BackendStore, ResidentRow, VenueRow } from '../store/repository.js';

/**
 * Builds the engine's context for one event from the council's records: the service,
 * the venue (its type and ward), and the profiles of the residents concerned (age band
 * and home ward only — no names, no health data). One instance per batch caches lookups.
 */
export class ContextBuilder {
  readonly #venues = new Map<string, VenueRow | null>();
  readonly #residents = new Map<string, ResidentRow | null>();

  constructor(private readonly store: BackendStore) {}

  #venue(id: string): VenueRow | null {
    if (!this.#venues.has(id)) this.#venues.set(id, this.store.getVenue(id));
    return this.#venues.get(id) ?? null;
  }

  #profile(ref: string): ResidentProfile | null {
    if (!this.#residents.has(ref)) this.#residents.set(ref, this.store.getResident(ref));
    const r = this.#residents.get(ref);
    if (!r) return null;
    return { ageBand: r.ageBand, resident: true, homeWard: r.ward, categories: [], consents: [] };
  }

  for(e: KioskEvent, serviceKind: ServiceKind): EvaluationContext {
    const venue = this.#venue(e.venueId);
    const refs = new Set<string>([e.residentRef]);
    if (e.type === 'time-record') refs.add(e.receiverRef);
    if (e.type === 'time-confirm') {
      refs.add(e.giverRef);
      refs.add(e.receiverRef);
    }
    const profiles: Record<string, ResidentProfile> = {};
    for (const ref of refs) {
      const p = this.#profile(ref);
      if (p) profiles[ref] = p;
    }
    const ctx: EvaluationContext = {
      service: { id: e.serviceId, kind: serviceKind },
      venue: venue ? { id: venue.id, type: venue.type as VenueType, ward: venue.ward } : null,
      profiles,
    };
    if (e.type === 'redemption') ctx.outlet = { id: e.outletId ?? e.venueId, categories: [] };
    return ctx;
  }
}
