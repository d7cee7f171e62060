import type {
  EvaluationContext,
  KioskEvent,
  ResidentProfile,
  ServiceKind,
  VenueType,
} from '@clubcard/shared';
import type { BackendStore, ResidentRow, VenueRow } from '../store/repository.js';
import { ResidentAttributeStore, dbOf, profileOf } from './attributes.js';
import { OutletDirectory } from './outlet-directory.js';

/**
 * Builds the engine's context for one event from the council's records: the service,
 * the venue (its type and ward), and the profiles of the residents concerned (age band,
 * home ward, and the categories and consents schemes test — no names). One instance per
 * batch caches lookups.
 */
export class ContextBuilder {
  readonly #venues = new Map<string, VenueRow | null>();
  readonly #residents = new Map<string, ResidentRow | null>();

  readonly #attributes: ResidentAttributeStore | null;
  readonly #outlets: OutletDirectory | null;

  constructor(private readonly store: BackendStore) {
    const db = dbOf(store);
    this.#attributes = db ? new ResidentAttributeStore(db) : null;
    this.#outlets = db ? new OutletDirectory(db) : null;
  }

  #venue(id: string): VenueRow | null {
    if (!this.#venues.has(id)) this.#venues.set(id, this.store.getVenue(id));
    return this.#venues.get(id) ?? null;
  }

  #profile(ref: string): ResidentProfile | null {
    if (!this.#residents.has(ref)) this.#residents.set(ref, this.store.getResident(ref));
    const r = this.#residents.get(ref);
    if (!r) return null;
    return profileOf(r, this.#attributes?.of(ref) ?? null);
  }

  /** The profile of one resident (for council events, outlet redemptions, simulation). */
  profile(ref: string): ResidentProfile | null {
    return this.#profile(ref);
  }

  /** Categories of an approved outlet (empty for a council venue paid as its own outlet). */
  outletCategories(id: string): string[] {
    return this.#outlets?.get(id)?.categories ?? [];
  }

  for(e: KioskEvent, serviceKind: ServiceKind): EvaluationContext {
    const venue = this.#venue(e.venueId);
    const ctx: EvaluationContext = {
      service: { id: e.serviceId, kind: serviceKind },
      venue: venue ? { id: venue.id, type: venue.type as VenueType, ward: venue.ward } : null,
      profile: this.#profile(e.residentRef),
    };
    // The other residents a time-bank event concerns, in a Map: resident refs as object
    // keys would give the runtime a new object shape per resident.
    const others =
      e.type === 'time-record'
        ? [e.receiverRef]
        : e.type === 'time-confirm'
          ? [e.giverRef, e.receiverRef]
          : null;
    if (others !== null) {
      const profiles = new Map<string, ResidentProfile>();
      for (const ref of others) {
        const p = this.#profile(ref);
        if (p) profiles.set(ref, p);
      }
      ctx.profiles = profiles;
    }
    if (e.type === 'redemption') {
      const id = e.outletId ?? e.venueId;
      ctx.outlet = { id, categories: this.outletCategories(id) };
    }
    return ctx;
  }
}
