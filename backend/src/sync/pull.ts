import {
  PROTOCOL_VERSION,
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
