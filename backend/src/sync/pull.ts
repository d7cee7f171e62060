import {
  MAX_SYNCED_ATTRIBUTES,
  PROTOCOL_VERSION,
  eligibilityAttributesOf,
  residentAccount,
  type PullPage,
  type SchemeDefinition,
  type SyncedBalance,
  type SyncedCard,
  type SyncedOffer,
  type SyncedOfferResident,
  type SyncedService,
  type SyncedStaff,
  type SyncedVenue,
} from '@clubcard/shared';
import { ResidentAttributeStore, dbOf } from '../rewards/attributes.js';
import type { BackendStore, KioskRow } from '../store/repository.js';

/** Targeted offers for pulls (OfferService); none are sent when absent. */
export interface OfferFeed {
  synced(id: string): SyncedOffer | null;
  offersOf(residentRef: string): SyncedOfferResident;
}

/**
 * One page of what changed since `cursor`. The feed holds keys, not values: each key is
 * materialised at its current state, so a page is always up to date and a key changed
 * many times is sent once per page.
 */
export function pullPage(
  store: BackendStore,
  kiosk: KioskRow,
  cursor: number,
  pageSize: number,
  now: number,
  /** Staff records as this kiosk may have them (StaffService.syncedFor); none when absent. */
  staffFor?: (staffRef: string, venueId: string) => SyncedStaff | null,
  offerFeed?: OfferFeed,
): PullPage {
  const rows = store.changesSince(cursor, pageSize + 1);
  const hasMore = rows.length > pageSize;
  const page = hasMore ? rows.slice(0, pageSize) : rows;
  const nextCursor = page.length > 0 ? (page[page.length - 1]?.cursor ?? cursor) : cursor;

  const cards: SyncedCard[] = [];
  const balances: SyncedBalance[] = [];
  const schemes: SchemeDefinition[] = [];
  const services: SyncedService[] = [];
  const venues: SyncedVenue[] = [];
  const staff: SyncedStaff[] = [];
  const offers: SyncedOffer[] = [];
  const offerResidents: SyncedOfferResident[] = [];
  const sentOffersOf = new Set<string>();
  /** A resident's offers, only if this kiosk's venue has seen them (like balances). */
  const offersOfSeen = (ref: string, evenIfNone: boolean): void => {
    if (!offerFeed || sentOffersOf.has(ref) || !store.venueHasSeen(kiosk.venueId, ref)) return;
    const o = offerFeed.offersOf(ref);
    if (o.offerIds.length === 0 && !evenIfNone) return;
    sentOffersOf.add(ref);
    offerResidents.push(o);
  };
  const seen = new Set<string>();
  const allSchemes = new Map<string, SchemeDefinition>();
  for (const s of store.listSchemes()) allSchemes.set(`${s.id}@${s.version}`, s);
  const attributesOf = kioskAttributes(store, [...allSchemes.values()]);

  for (const ch of page) {
    const k = `${ch.kind}:${ch.key}`;
    if (seen.has(k)) continue;
    seen.add(k);
    if ((ch.kind as string) === 'staff') {
      const st = staffFor?.(ch.key, kiosk.venueId);
      if (st) staff.push(st);
      continue;
    }
    if ((ch.kind as string) === 'offer') {
      const o = offerFeed?.synced(ch.key);
      if (o) offers.push(o);
      continue;
    }
    if ((ch.kind as string) === 'offer-resident') {
      offersOfSeen(ch.key, true);
      continue;
    }
    switch (ch.kind) {
      case 'card': {
        const c = store.getCard(ch.key);
        const r = c ? store.getResident(c.residentRef) : null;
        if (c && r) {
          cards.push({
            cardHash: c.cardHash,
            residentRef: c.residentRef,
            status: c.status,
            firstName: r.firstName,
            ageBand: r.ageBand,
            technology: c.technology as NonNullable<SyncedCard['technology']>,
            highestCounter: store.highestCounter(c.cardHash),
            ...attributesOf(c.residentRef),
          });
        }
        break;
      }
      case 'balance':
        // Balances only of residents this kiosk's venue has seen.
        if (!store.venueHasSeen(kiosk.venueId, ch.key)) break;
        // A resident first seen here also needs the offers that target them.
        offersOfSeen(ch.key, false);
        for (const b of store.balancesOf(residentAccount(ch.key))) {
          balances.push({
            residentRef: ch.key as SyncedBalance['residentRef'],
            wallet: b.wallet,
            amount: b.amount,
          });
        }
        break;
      case 'scheme': {
        const s = allSchemes.get(ch.key);
        if (s) schemes.push(s);
        break;
      }
      case 'service': {
        const s = store.getService(ch.key);
        if (s) services.push(s);
        break;
      }
      case 'venue': {
        const v = store.getVenue(ch.key);
        if (v)
          venues.push({
            id: v.id,
            name: v.name,
            allowUidOnly: v.allowUidOnly,
            services: v.services,
            type: v.type,
            ward: v.ward,
          });
        break;
      }
    }
  }
  store.noteKioskPull(kiosk.id, now);
  return {
    protocol: PROTOCOL_VERSION,
    kioskId: kiosk.id,
    cursor,
    nextCursor,
    hasMore,
    serverTime: now,
    cards,
    balances,
    schemes,
    services,
    venues,
    ...(staff.length > 0 ? { staff } : {}),
    ...(offers.length > 0 ? { offers } : {}),
    ...(offerResidents.length > 0 ? { offerResidents } : {}),
  };
}

/**
 * What a kiosk may hold of a resident's categories and consents: only those some
 * published scheme's eligibility reads, never health-related ones (data minimisation),
 * so the kiosk's provisional answer matches the backend's. Every card carries both lists
 * (empty when none), so a value removed at the backend is removed at the kiosk.
 */
function kioskAttributes(
  store: BackendStore,
  schemes: readonly SchemeDefinition[],
): (residentRef: string) => Pick<SyncedCard, 'categories' | 'consents'> {
  const db = dbOf(store);
  if (!db) return () => ({});
  const attrs = new ResidentAttributeStore(db);
  const used = eligibilityAttributesOf(schemes);
  const cache = new Map<string, Pick<SyncedCard, 'categories' | 'consents'>>();
  return (ref) => {
    let out = cache.get(ref);
    if (!out) {
      const a = attrs.of(ref);
      out = {
        categories: a.categories
          .filter((c) => used.categories.has(c))
          .slice(0, MAX_SYNCED_ATTRIBUTES),
        consents: a.consents.filter((c) => used.consents.has(c)).slice(0, MAX_SYNCED_ATTRIBUTES),
      };
      cache.set(ref, out);
    }
    return out;
  };
}
