import type { CompiledTrigger } from './compile.js';
import type { Eligibility, ServiceKind, VenueType, Where } from './scheme.js';

/** Age bands as on the card (mirrors AgeBand in protocol/sync.ts). */
export type ProfileAgeBand = '0-12' | '13-19' | '20-29' | '30-44' | '45-64' | '65-74' | '75+';

/**
 * What the engine may know about a resident: the minimum the kiosk holds (age band and
 * eligibility flags), never a name, address or health record. `categories` are
 * eligibility flags (care-leaver, in-education, prison-leaver …); `consents` what the
 * resident agreed to (e.g. time-bank).
 */
export interface ResidentProfile {
  ageBand: ProfileAgeBand;
  /** Lives in the council area. */
  resident: boolean;
  homeWard: string | null;
  categories: readonly string[];
  consents: readonly string[];
}

/**
 * What the engine needs to know about the world around one event that the event does
 * not carry. Plain data only, so the kiosk can build it offline from its synced tables.
 * Every field is optional: a rule whose filter needs a missing fact does not match.
 */
export interface EvaluationContext {
  /** The service the event happened at. */
  service?: { id: string; kind: ServiceKind } | null;
  /** Legacy form of service.kind (the first engine took only this). */
  serviceKind?: ServiceKind;
  venue?: { id: string; type: VenueType | null; ward: string | null } | null;
  /** The outlet of a redemption (null outletId: the venue itself). */
  outlet?: { id: string; categories: readonly string[] } | null;
  /** Profile of the event's resident (`residentRef`). */
  profile?: ResidentProfile | null;
  /**
   * Profiles of other residents the event concerns, by resident ref (the giver and the
   * receiver of time-bank events). Also consulted for the event's resident when
   * `profile` is absent. Prefer a Map where events stream through: every resident ref
   * used as an object key gives the runtime one more object shape to keep.
   */
  profiles?: ProfilesByRef;
}

export type ProfilesByRef =
  ReadonlyMap<string, ResidentProfile> | Readonly<Record<string, ResidentProfile>>;

export function serviceKindOf(ctx: EvaluationContext): string | null {
  return ctx.service?.kind ?? ctx.serviceKind ?? null;
}

/** Filters combine with AND; the values listed within one filter with OR. */
export function matchTrigger(
  tr: CompiledTrigger,
  kind: string | null,
  serviceId: string,
  venueId: string,
  venueType: string | null,
): boolean {
  if (tr.serviceKinds !== null && (kind === null || !tr.serviceKinds.has(kind))) return false;
  if (tr.serviceIds !== null && !tr.serviceIds.has(serviceId)) return false;
  if (tr.venueIds !== null && !tr.venueIds.has(venueId)) return false;
  if (tr.venueTypes !== null && (venueType === null || !tr.venueTypes.has(venueType))) return false;
  return true;
}

/** The profile of a resident the event concerns, from the context. */
export function profileIn(
  ctx: EvaluationContext,
  eventResident: string,
  ref: string,
): ResidentProfile | undefined {
  if (ref === eventResident && ctx.profile) return ctx.profile;
  const ps = ctx.profiles;
  if (ps === undefined) return undefined;
  return ps instanceof Map ? ps.get(ref) : (ps as Readonly<Record<string, ResidentProfile>>)[ref];
}

function countIn(xs: readonly string[], ys: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (ys.includes(xs[i] as string)) n++;
  return n;
}

export function isEligible(
  e: Eligibility | undefined,
  p: ResidentProfile | null | undefined,
): boolean {
  if (!e) return true;
  if (!p) return false;
  if (e.ageBands && !e.ageBands.includes(p.ageBand)) return false;
  if (e.residency === 'resident' && !p.resident) return false;
  const c = e.categories;
  if (c) {
    if (c.anyOf && countIn(c.anyOf, p.categories) === 0) return false;
    if (c.allOf && countIn(c.allOf, p.categories) !== c.allOf.length) return false;
    if (c.noneOf && countIn(c.noneOf, p.categories) !== 0) return false;
  }
  if (e.consents && countIn(e.consents, p.consents) !== e.consents.length) return false;
  return true;
}

/** Why a redemption's place does not satisfy a rule's `where`, or null when it does. */
export function whereProblem(
  w: Where,
  place: {
    serviceKind: string | null;
    serviceId: string | null;
    venueId: string;
    venueType: string | null;
    outletId: string | null;
    outletCategories: readonly string[];
  },
): string | null {
  if (
    w.serviceKinds &&
    (place.serviceKind === null || !w.serviceKinds.includes(place.serviceKind as ServiceKind))
  ) {
    return `only at ${w.serviceKinds.join(', ')} services`;
  }
  if (w.serviceIds && (place.serviceId === null || !w.serviceIds.includes(place.serviceId))) {
    return 'not at this service';
  }
  if (w.venueIds && !w.venueIds.includes(place.venueId)) return 'not at this venue';
  if (
    w.venueTypes &&
    (place.venueType === null || !w.venueTypes.includes(place.venueType as VenueType))
  ) {
    return `only at ${w.venueTypes.join(', ')} venues`;
  }
  const outlet = place.outletId ?? place.venueId;
  if (w.outletIds && !w.outletIds.includes(outlet)) return 'not an approved outlet';
  if (w.outletCategories && !w.outletCategories.some((c) => place.outletCategories.includes(c))) {
    return `only at outlets for ${w.outletCategories.join(', ')}`;
  }
  return null;
}
