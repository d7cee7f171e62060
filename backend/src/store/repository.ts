import type {
  AgeBand,
  Balance,
  CardHash,
  EngineFlag,
  KioskId,
  LedgerLine,
  ResidentRef,
  SchemeDefinition,
  ServiceId,
  ServiceKind,
  VenueId,
} from '@clubcard/shared';

/**
 * The backend's storage port. Plain typed rows in and out; SQL lives only in the
 * adapters. SQLite (better-sqlite3) is the embedded default; the interface is kept
 * narrow so that a PostgreSQL adapter can serve a larger council. Calls are
 * synchronous because better-sqlite3 is; `transaction` makes a unit of work atomic.
 */
export interface ServiceRow {
  id: ServiceId;
  name: string;
  kind: ServiceKind;
}

export interface VenueRow {
  id: VenueId;
  name: string;
  type: string;
  ward: string;
  allowUidOnly: boolean;
  services: ServiceId[];
}

export interface ResidentRow {
  ref: ResidentRef;
  firstName: string | null;
  ageBand: AgeBand;
  ward: string;
  createdAt: number;
}

export type CardStatus = 'active' | 'blocked';

export interface CardRow {
  cardHash: CardHash;
  residentRef: ResidentRef;
  status: CardStatus;
  technology: string;
  keyVersion: number | null;
}

export type KioskStatus = 'pending' | 'active' | 'revoked';

export interface KioskRow {
  id: KioskId;
  venueId: VenueId;
  serviceId: ServiceId;
  status: KioskStatus;
  codeHash: string | null;
  codeExpiresAt: number | null;
  publicKey: string | null;
  ackSeq: number;
  lastPushAt: number | null;
  lastPullAt: number | null;
  clockOffsetMs: number | null;
}

export interface StoredEventRow {
  id: string;
  kioskId: string;
  seq: number;
  status: 'accepted' | 'rejected';
  rejectCode: string | null;
}

export interface NewEventRow {
  id: string;
  kioskId: string;
  seq: number;
  type: string;
  occurredAt: string;
  receivedAt: number;
  residentRef: string | null;
  venueId: string | null;
  serviceId: string | null;
  status: 'accepted' | 'rejected';
  rejectCode: string | null;
  payload: string;
  /** Set for secure reads: (cardHash, cardCounter) is unique across all events. */
  cardHash?: string | null;
  cardCounter?: number | null;
}

export type ChangeKind = 'card' | 'balance' | 'scheme' | 'service' | 'venue';

export interface ChangeRow {
  cursor: number;
  kind: ChangeKind;
  key: string;
}

export interface BackendStore {
  transaction<T>(fn: () => T): T;
  close(): void;

  getSetting(key: string): string | null;
  setSetting(key: string, value: string): void;

  upsertService(s: ServiceRow): void;
  getService(id: string): ServiceRow | null;
  listServices(): ServiceRow[];

  upsertVenue(v: VenueRow): void;
  getVenue(id: string): VenueRow | null;
  listVenues(): VenueRow[];

  addResident(r: ResidentRow): void;
  getResident(ref: string): ResidentRow | null;

  addCard(c: CardRow, at: number): void;
  getCard(hash: string): CardRow | null;
  setCardStatus(hash: string, status: CardStatus, at: number): boolean;
  /** Every active card of a resident, whichever kiosk or desk issued it. */
  activeCardsOfResident(residentRef: string): CardHash[];

  addKiosk(k: KioskRow): void;
  getKiosk(id: string): KioskRow | null;
  findPendingKioskByCodeHash(codeHash: string): KioskRow | null;
  activateKiosk(id: string, publicKey: string, at: number): void;
  setKioskStatus(id: string, status: KioskStatus): void;
  noteKioskPush(id: string, at: number, clockOffsetMs: number): void;
  noteKioskPull(id: string, at: number): void;
  listKiosks(): KioskRow[];

  /** Records a request nonce; false when this kiosk has used it before. */
  rememberNonce(kioskId: string, nonce: string, at: number): boolean;
  pruneNonces(before: number): number;

  findEvents(ids: readonly string[]): Map<string, StoredEventRow>;
  hasEventAt(kioskId: string, seq: number): boolean;
  insertEvent(e: NewEventRow): void;
  insertLines(lines: readonly LedgerLine[], at: number): void;
  linesOfEvent(eventId: string): LedgerLine[];
  /** Moves the kiosk's acknowledged sequence over every contiguous stored event. */
  advanceAck(kioskId: string): number;

  balancesOf(account: string): Balance[];

  /** Has any event already used this SUN counter value of this card? */
  counterUsed(cardHash: string, counter: number): boolean;
  /** Raises the card's highest counter seen (never lowers it). */
  noteCounter(cardHash: string, counter: number, at: number): void;
  highestCounter(cardHash: string): number | null;

  /** Notes that a venue has seen a resident; true the first time. */
  noteVenueResident(venueId: string, residentRef: string, at: number): boolean;
  venueHasSeen(venueId: string, residentRef: string): boolean;

  /** Records what the rules engine flagged for staff about one event. */
  insertFlags(eventId: string, flags: readonly EngineFlag[], at: number): void;

  publishScheme(def: SchemeDefinition, at: number): void;
  listSchemes(): SchemeDefinition[];

  addChange(kind: ChangeKind, key: string, at: number): void;
  changesSince(cursor: number, limit: number): ChangeRow[];
  latestCursor(): number;
}
