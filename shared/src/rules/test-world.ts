import type { CardAuth, EngineEvent } from '../protocol/events.js';
import type { EvaluationContext, ResidentProfile } from './context.js';
import type { ServiceKind, VenueType } from './scheme.js';

/**
 * A small, fixed world for the engine's tests: services, venues, outlets, residents, and
 * builders for every event type. Test support only.
 */

export const SERVICES: Record<string, ServiceKind> = {
  's-swim': 'leisure',
  's-gym': 'leisure',
  's-music-tuition': 'leisure',
  's-studio-hire': 'leisure',
  's-library': 'library',
  's-adult-learning': 'learning',
  's-gp-drop-in': 'gp-drop-in',
  's-health-walk': 'community',
  's-time-bank': 'community',
  's-recycling': 'community',
  's-voucher-desk': 'community',
};

export const VENUES: Record<string, { type: VenueType; ward: string }> = {
  'v-riverside-leisure': { type: 'leisure-centre', ward: 'w-riverside' },
  'v-central-library': { type: 'library', ward: 'w-central' },
  'v-north-college': { type: 'college', ward: 'w-north' },
  'v-riverside-health': { type: 'health-centre', ward: 'w-riverside' },
  'v-oak-community': { type: 'community-centre', ward: 'w-central' },
  'v-recycling-depot': { type: 'recycling-centre', ward: 'w-north' },
};

export const OUTLETS: Record<string, readonly string[]> = {
  'o-city-buses': ['transport'],
  'o-bookshop': ['learning-resources'],
  'o-work-wear': ['work-clothes'],
  'o-interview-skills': ['interview-preparation'],
  'o-housing-advice': ['accommodation'],
  'o-skills-academy': ['skills-course'],
  'o-corner-shop': ['groceries'],
};

/** Where each service is normally used. */
export const HOME_VENUE: Record<string, string> = {
  's-swim': 'v-riverside-leisure',
  's-gym': 'v-riverside-leisure',
  's-music-tuition': 'v-north-college',
  's-studio-hire': 'v-north-college',
  's-library': 'v-central-library',
  's-adult-learning': 'v-north-college',
  's-gp-drop-in': 'v-riverside-health',
  's-health-walk': 'v-oak-community',
  's-time-bank': 'v-oak-community',
  's-recycling': 'v-recycling-depot',
  's-voucher-desk': 'v-oak-community',
};

export const PROFILES: Record<string, ResidentProfile> = {
  'r-teenager01': {
    ageBand: '13-19',
    resident: true,
    homeWard: 'w-riverside',
    categories: ['in-education'],
    consents: ['time-bank'],
  },
  'r-student002': {
    ageBand: '20-29',
    resident: true,
    homeWard: 'w-central',
    categories: ['in-training'],
    consents: ['time-bank'],
  },
  'r-pensioner3': {
    ageBand: '65-74',
    resident: true,
    homeWard: 'w-north',
    categories: [],
    consents: ['time-bank'],
  },
  'r-leaver0004': {
    ageBand: '30-44',
    resident: true,
    homeWard: 'w-north',
    categories: ['prison-leaver'],
    consents: [],
  },
  'r-visitor005': {
    ageBand: '13-19',
    resident: false,
    homeWard: null,
    categories: [],
    consents: [],
  },
};

export const RESIDENTS = Object.keys(PROFILES);

export const AUTH: CardAuth = { method: 'simulated', keyVersion: null, counter: null };

/** A valid lowercase UUIDv7 from a number (deterministic, increasing with n). */
export function testEventId(n: number): string {
  const h = n.toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7000-8000-${h}`;
}

export function cardHashOf(ref: string): string {
  let h = '';
  for (let i = 0; h.length < 64; i++)
    h += ((ref.charCodeAt(i % ref.length) * 31 + i) % 16).toString(16);
  return h;
}

/** Everything the engine needs around an event, from the world tables. */
export function contextOf(e: EngineEvent): EvaluationContext {
  const profiles: Record<string, ResidentProfile> = {};
  const add = (ref: string) => {
    const p = PROFILES[ref];
    if (p) profiles[ref] = p;
  };
  add(e.residentRef);
  if (e.type === 'time-confirm') {
    add(e.giverRef);
    add(e.receiverRef);
  }
  if (e.type === 'time-record') add(e.receiverRef);
  const profile = PROFILES[e.residentRef] ?? null;
  if (e.type === 'allowance' || e.type === 'expiry-sweep') return { profile, profiles };
  const kind = SERVICES[e.serviceId];
  const venue = VENUES[e.venueId];
  const outletId = e.type === 'redemption' ? e.outletId : null;
  return {
    service: kind ? { id: e.serviceId, kind } : null,
    venue: venue ? { id: e.venueId, type: venue.type, ward: venue.ward } : null,
    outlet: outletId ? { id: outletId, categories: OUTLETS[outletId] ?? [] } : null,
    profile,
    profiles,
  };
}

export interface At {
  /** ISO instant. */
  at: string;
  kiosk?: string;
  seq: number;
  n?: number;
}

function base(a: At) {
  const n = a.n ?? a.seq;
  return {
    id: testEventId(n),
    kioskId: a.kiosk ?? 'k-one',
    seq: a.seq,
    occurredAt: a.at,
  };
}

function tap(a: At, residentRef: string, serviceId: string, venueId?: string) {
  return {
    ...base(a),
    venueId: venueId ?? HOME_VENUE[serviceId] ?? 'v-oak-community',
    cardHash: cardHashOf(residentRef),
    residentRef,
    serviceId,
    auth: AUTH,
  };
}

/** Builders for every event type. The casts brand plain test strings. */
export const ev = {
  visit: (a: At, ref: string, serviceId: string, venueId?: string): EngineEvent =>
    ({ ...tap(a, ref, serviceId, venueId), type: 'visit', assisted: false }) as EngineEvent,
  session: (a: At, ref: string, serviceId: string, minutes: number): EngineEvent =>
    ({ ...tap(a, ref, serviceId), type: 'session', assisted: false, minutes }) as EngineEvent,
  redemption: (
    a: At,
    ref: string,
    r: {
      wallet: string;
      schemeId: string;
      ruleId: string;
      amount: number;
      serviceId?: string;
      outletId?: string | null;
      quantity?: number;
      offline?: boolean;
      approvedBy?: string | null;
    },
  ): EngineEvent =>
    ({
      ...tap(a, ref, r.serviceId ?? 's-voucher-desk'),
      type: 'redemption',
      wallet: r.wallet,
      schemeId: r.schemeId,
      ruleId: r.ruleId,
      outletId: r.outletId ?? null,
      quantity: r.quantity ?? 1,
      amount: r.amount,
      offline: r.offline ?? false,
      approvedBy: r.approvedBy ?? null,
    }) as EngineEvent,
  timeRecord: (
    a: At,
    giver: string,
    receiver: string,
    minutes: number,
    schemeId = 'time-bank',
  ): EngineEvent =>
    ({
      ...tap(a, giver, 's-time-bank'),
      type: 'time-record',
      schemeId,
      receiverRef: receiver,
      minutes,
      activity: 'gardening',
    }) as EngineEvent,
  timeConfirm: (
    a: At,
    recordId: string,
    giver: string,
    receiver: string,
    by: 'receiver' | 'organiser' = 'receiver',
    schemeId = 'time-bank',
  ): EngineEvent =>
    ({
      ...tap(a, by === 'receiver' ? receiver : giver, 's-time-bank'),
      type: 'time-confirm',
      schemeId,
      recordId,
      giverRef: giver,
      receiverRef: receiver,
      confirmedBy: by,
      staffRef: by === 'organiser' ? 'st-organiser' : null,
    }) as EngineEvent,
  grant: (
    a: At,
    ref: string,
    schemeId: string,
    grantId: string,
    amount: number,
    approvedBy: string | null = 'st-officer',
  ): EngineEvent =>
    ({
      ...tap(a, ref, 's-voucher-desk'),
      type: 'grant',
      schemeId,
      grantId,
      amount,
      approvedBy,
    }) as EngineEvent,
  allowance: (a: At, ref: string, schemeId: string, grantId: string): EngineEvent =>
    ({
      ...base({ ...a, kiosk: a.kiosk ?? 'k-council' }),
      type: 'allowance',
      residentRef: ref,
      schemeId,
      grantId,
    }) as EngineEvent,
  ward: (a: At, ref: string, wardId: string, measure: string, quantity: number): EngineEvent =>
    ({
      ...tap(a, ref, 's-recycling'),
      type: 'ward-contribution',
      wardId,
      measure,
      quantity,
    }) as EngineEvent,
  sweep: (a: At, ref: string): EngineEvent =>
    ({
      ...base({ ...a, kiosk: a.kiosk ?? 'k-council' }),
      type: 'expiry-sweep',
      residentRef: ref,
    }) as EngineEvent,
};
