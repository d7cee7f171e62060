import type { Statement } from 'better-sqlite3';
import {
  SchemeDefinitionSchema,
  type Balance,
  type CardHash,
  type EngineFlag,
  type LedgerLine,
  type SchemeDefinition,
} from '@clubcard/shared';
import type { Db } from '../db/open.js';
import type {
  BackendStore,
  CardRow,
  CardStatus,
  ChangeKind,
  ChangeRow,
  KioskRow,
  KioskStatus,
  NewEventRow,
  ResidentRow,
  ServiceRow,
  StoredEventRow,
  VenueRow,
} from './repository.js';

interface KioskDbRow {
  id: string;
  venue_id: string;
  service_id: string;
  status: KioskStatus;
  code_hash: string | null;
  code_expires_at: number | null;
  public_key: string | null;
  ack_seq: number;
  last_push_at: number | null;
  last_pull_at: number | null;
  clock_offset_ms: number | null;
}

interface LineDbRow {
  event_id: string;
  idx: number;
  scheme_id: string;
  scheme_version: number;
  rule_id: string;
  wallet: string;
  from_account: string;
  to_account: string;
  amount: number;
}

function kioskFromDb(r: KioskDbRow): KioskRow {
  return {
    id: r.id as KioskRow['id'],
    venueId: r.venue_id as KioskRow['venueId'],
    serviceId: r.service_id as KioskRow['serviceId'],
    status: r.status,
    codeHash: r.code_hash,
    codeExpiresAt: r.code_expires_at,
    publicKey: r.public_key,
    ackSeq: r.ack_seq,
    lastPushAt: r.last_push_at,
    lastPullAt: r.last_pull_at,
    clockOffsetMs: r.clock_offset_ms,
  };
}

function lineFromDb(r: LineDbRow): LedgerLine {
  return {
    eventId: r.event_id as LedgerLine['eventId'],
    index: r.idx,
    schemeId: r.scheme_id as LedgerLine['schemeId'],
    schemeVersion: r.scheme_version,
    ruleId: r.rule_id,
    wallet: r.wallet,
    from: r.from_account,
    to: r.to_account,
    amount: r.amount,
  };
}

/** better-sqlite3 adapter of the backend store: prepared statements, SQL with `?`. */
export class SqliteBackendStore implements BackendStore {
  readonly #db: Db;
  readonly #stmts = new Map<string, Statement>();
  #schemeCache: SchemeDefinition[] | null = null;

  constructor(db: Db) {
    this.#db = db;
  }

  get db(): Db {
    return this.#db;
  }

  #s(sql: string): Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  close(): void {
    this.#db.close();
  }

  getSetting(key: string): string | null {
    const r = this.#s('SELECT value FROM settings WHERE key = ?').get(key) as
      { value: string } | undefined;
    return r?.value ?? null;
  }

  setSetting(key: string, value: string): void {
    this.#s(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }

  upsertService(s: ServiceRow): void {
    this.#s(
      'INSERT INTO services (id, name, kind) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind',
    ).run(s.id, s.name, s.kind);
  }

  getService(id: string): ServiceRow | null {
    return (
      (this.#s('SELECT id, name, kind FROM services WHERE id = ?').get(id) as
        ServiceRow | undefined) ?? null
    );
  }

  listServices(): ServiceRow[] {
    return this.#s('SELECT id, name, kind FROM services ORDER BY id').all() as ServiceRow[];
  }

  upsertVenue(v: VenueRow): void {
    this.transaction(() => {
      this.#s(
        `INSERT INTO venues (id, name, type, ward, allow_uid_only) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type, ward = excluded.ward,
           allow_uid_only = excluded.allow_uid_only`,
      ).run(v.id, v.name, v.type, v.ward, v.allowUidOnly ? 1 : 0);
      this.#s('DELETE FROM venue_services WHERE venue_id = ?').run(v.id);
      for (const s of v.services) {
        this.#s('INSERT INTO venue_services (venue_id, service_id) VALUES (?, ?)').run(v.id, s);
      }
    });
  }

  getVenue(id: string): VenueRow | null {
    const r = this.#s('SELECT id, name, type, ward, allow_uid_only FROM venues WHERE id = ?').get(
      id,
    ) as
      { id: string; name: string; type: string; ward: string; allow_uid_only: number } | undefined;
    if (!r) return null;
    const services = (
      this.#s('SELECT service_id FROM venue_services WHERE venue_id = ? ORDER BY service_id').all(
        id,
      ) as { service_id: string }[]
    ).map((x) => x.service_id as VenueRow['services'][number]);
    return {
      id: r.id as VenueRow['id'],
      name: r.name,
      type: r.type,
      ward: r.ward,
      allowUidOnly: r.allow_uid_only === 1,
      services,
    };
  }

  listVenues(): VenueRow[] {
    const ids = this.#s('SELECT id FROM venues ORDER BY id').all() as { id: string }[];
    return ids.map((r) => this.getVenue(r.id)).filter((v): v is VenueRow => v !== null);
  }

  addResident(r: ResidentRow): void {
    this.#s(
      'INSERT INTO residents (ref, first_name, age_band, ward, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(r.ref, r.firstName, r.ageBand, r.ward, r.createdAt);
  }

  getResident(ref: string): ResidentRow | null {
    const r = this.#s(
      'SELECT ref, first_name AS firstName, age_band AS ageBand, ward, created_at AS createdAt FROM residents WHERE ref = ?',
    ).get(ref) as ResidentRow | undefined;
    return r ?? null;
  }

  addCard(c: CardRow, at: number): void {
    this.#s(
      `INSERT INTO cards (card_hash, resident_ref, status, technology, key_version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(c.cardHash, c.residentRef, c.status, c.technology, c.keyVersion, at, at);
  }

  getCard(hash: string): CardRow | null {
    const r = this.#s(
      `SELECT card_hash AS cardHash, resident_ref AS residentRef, status, technology, key_version AS keyVersion
       FROM cards WHERE card_hash = ?`,
    ).get(hash) as CardRow | undefined;
    return r ?? null;
  }

  activeCardsOfResident(residentRef: string): CardHash[] {
    return (
      this.#s(
        "SELECT card_hash AS cardHash FROM cards WHERE resident_ref = ? AND status = 'active' ORDER BY card_hash",
      ).all(residentRef) as { cardHash: CardHash }[]
    ).map((r) => r.cardHash);
  }

  setCardStatus(hash: string, status: CardStatus, at: number): boolean {
    return (
      this.#s('UPDATE cards SET status = ?, updated_at = ? WHERE card_hash = ?').run(
        status,
        at,
        hash,
      ).changes === 1
    );
  }

  addKiosk(k: KioskRow): void {
    this.#s(
      `INSERT INTO kiosks (id, venue_id, service_id, status, code_hash, code_expires_at, public_key, ack_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      k.id,
      k.venueId,
      k.serviceId,
      k.status,
      k.codeHash,
      k.codeExpiresAt,
      k.publicKey,
      k.ackSeq,
    );
  }

  getKiosk(id: string): KioskRow | null {
    const r = this.#s('SELECT * FROM kiosks WHERE id = ?').get(id) as KioskDbRow | undefined;
    return r ? kioskFromDb(r) : null;
  }

  findPendingKioskByCodeHash(codeHash: string): KioskRow | null {
    const r = this.#s("SELECT * FROM kiosks WHERE code_hash = ? AND status = 'pending'").get(
      codeHash,
    ) as KioskDbRow | undefined;
    return r ? kioskFromDb(r) : null;
  }

  activateKiosk(id: string, publicKey: string, at: number): void {
    this.#s(
      "UPDATE kiosks SET status = 'active', public_key = ?, registered_at = ?, code_hash = NULL, code_expires_at = NULL WHERE id = ?",
    ).run(publicKey, at, id);
  }

  setKioskStatus(id: string, status: KioskStatus): void {
    this.#s('UPDATE kiosks SET status = ? WHERE id = ?').run(status, id);
  }

  noteKioskPush(id: string, at: number, clockOffsetMs: number): void {
    this.#s('UPDATE kiosks SET last_push_at = ?, clock_offset_ms = ? WHERE id = ?').run(
      at,
      clockOffsetMs,
      id,
    );
  }

  noteKioskPull(id: string, at: number): void {
    this.#s('UPDATE kiosks SET last_pull_at = ? WHERE id = ?').run(at, id);
  }

  listKiosks(): KioskRow[] {
    return (this.#s('SELECT * FROM kiosks ORDER BY id').all() as KioskDbRow[]).map(kioskFromDb);
  }

  rememberNonce(kioskId: string, nonce: string, at: number): boolean {
    return (
      this.#s(
        'INSERT INTO request_nonces (kiosk_id, nonce, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ).run(kioskId, nonce, at).changes === 1
    );
  }

  pruneNonces(before: number): number {
    return this.#s('DELETE FROM request_nonces WHERE seen_at < ?').run(before).changes;
  }

  findEvents(ids: readonly string[]): Map<string, StoredEventRow> {
    const out = new Map<string, StoredEventRow>();
    if (ids.length === 0) return out;
    // One round trip for the whole batch: json_each over the id list.
    const rows = this.#s(
      `SELECT id, kiosk_id AS kioskId, seq, status, reject_code AS rejectCode
       FROM events WHERE id IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(ids)) as StoredEventRow[];
    for (const r of rows) out.set(r.id, r);
    return out;
  }

  hasEventAt(kioskId: string, seq: number): boolean {
    return (
      this.#s('SELECT 1 FROM events WHERE kiosk_id = ? AND seq = ?').get(kioskId, seq) !== undefined
    );
  }

  insertEvent(e: NewEventRow): void {
    this.#s(
      `INSERT INTO events (id, kiosk_id, seq, type, occurred_at, received_at, resident_ref, venue_id, service_id,
         status, reject_code, payload, card_hash, card_counter)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.id,
      e.kioskId,
      e.seq,
      e.type,
      e.occurredAt,
      e.receivedAt,
      e.residentRef,
      e.venueId,
      e.serviceId,
      e.status,
      e.rejectCode,
      e.payload,
      e.cardHash ?? null,
      e.cardCounter ?? null,
    );
  }

  insertLines(lines: readonly LedgerLine[], at: number): void {
    const s = this.#s(
      `INSERT INTO ledger_lines (event_id, idx, scheme_id, scheme_version, rule_id, wallet, from_account, to_account,
         amount, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const l of lines) {
      s.run(
        l.eventId,
        l.index,
        l.schemeId,
        l.schemeVersion,
        l.ruleId,
        l.wallet,
        l.from,
        l.to,
        l.amount,
        at,
      );
    }
  }

  linesOfEvent(eventId: string): LedgerLine[] {
    return (
      this.#s('SELECT * FROM ledger_lines WHERE event_id = ? ORDER BY idx').all(
        eventId,
      ) as LineDbRow[]
    ).map(lineFromDb);
  }

  advanceAck(kioskId: string): number {
    const k = this.#s('SELECT ack_seq FROM kiosks WHERE id = ?').get(kioskId) as
      { ack_seq: number } | undefined;
    if (!k) return 0;
    // Contiguous run after the current ack: seq - row_number() is constant over a run.
    const r = this.#s(
      `SELECT MAX(seq) AS top FROM (
         SELECT seq, seq - ROW_NUMBER() OVER (ORDER BY seq) AS grp
         FROM events WHERE kiosk_id = ? AND seq > ?
       ) WHERE grp = ?`,
    ).get(kioskId, k.ack_seq, k.ack_seq) as { top: number | null };
    const ack = r.top ?? k.ack_seq;
    if (ack !== k.ack_seq) this.#s('UPDATE kiosks SET ack_seq = ? WHERE id = ?').run(ack, kioskId);
    return ack;
  }

  balancesOf(account: string): Balance[] {
    return this.#s(
      `SELECT wallet, SUM(amount) AS amount FROM (
         SELECT wallet, amount FROM ledger_lines WHERE to_account = ?
         UNION ALL
         SELECT wallet, -amount FROM ledger_lines WHERE from_account = ?
       ) GROUP BY wallet ORDER BY wallet`,
    ).all(account, account) as Balance[];
  }

  counterUsed(cardHash: string, counter: number): boolean {
    return (
      this.#s('SELECT 1 FROM events WHERE card_hash = ? AND card_counter = ?').get(
        cardHash,
        counter,
      ) !== undefined
    );
  }

  noteCounter(cardHash: string, counter: number, at: number): void {
    this.#s(
      `INSERT INTO card_counters (card_hash, highest, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(card_hash) DO UPDATE SET highest = MAX(highest, excluded.highest), updated_at = excluded.updated_at`,
    ).run(cardHash, counter, at);
  }

  highestCounter(cardHash: string): number | null {
    const r = this.#s('SELECT highest FROM card_counters WHERE card_hash = ?').get(cardHash) as
      { highest: number } | undefined;
    return r?.highest ?? null;
  }

  noteVenueResident(venueId: string, residentRef: string, at: number): boolean {
    return (
      this.#s(
        'INSERT INTO venue_residents (venue_id, resident_ref, first_seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ).run(venueId, residentRef, at).changes === 1
    );
  }

  venueHasSeen(venueId: string, residentRef: string): boolean {
    return (
      this.#s('SELECT 1 FROM venue_residents WHERE venue_id = ? AND resident_ref = ?').get(
        venueId,
        residentRef,
      ) !== undefined
    );
  }

  insertFlags(eventId: string, flags: readonly EngineFlag[], at: number): void {
    const s = this.#s(
      `INSERT INTO engine_flags (event_id, code, detail, resident_ref, scheme_id, amount, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const f of flags) {
      s.run(
        eventId,
        f.code,
        f.detail,
        f.residentRef ?? null,
        f.schemeId ?? null,
        f.amount ?? null,
        at,
      );
    }
  }

  publishScheme(def: SchemeDefinition, at: number): void {
    this.#s('INSERT INTO schemes (id, version, definition, published_at) VALUES (?, ?, ?, ?)').run(
      def.id,
      def.version,
      JSON.stringify(def),
      at,
    );
    this.#schemeCache = null;
  }

  listSchemes(): SchemeDefinition[] {
    if (!this.#schemeCache) {
      const rows = this.#s('SELECT definition FROM schemes ORDER BY id, version').all() as {
        definition: string;
      }[];
      this.#schemeCache = rows.map((r) => SchemeDefinitionSchema.parse(JSON.parse(r.definition)));
    }
    return this.#schemeCache;
  }

  /** Moves the key to the feed's end: only its latest change is kept (pulls send current state). */
  addChange(kind: ChangeKind, key: string, at: number): void {
    this.#s('DELETE FROM changes WHERE kind = ? AND key = ?').run(kind, key);
    this.#s('INSERT INTO changes (kind, key, created_at) VALUES (?, ?, ?)').run(kind, key, at);
  }

  changesSince(cursor: number, limit: number): ChangeRow[] {
    return this.#s(
      'SELECT cursor, kind, key FROM changes WHERE cursor > ? ORDER BY cursor LIMIT ?',
    ).all(cursor, limit) as ChangeRow[];
  }

  latestCursor(): number {
    const r = this.#s('SELECT MAX(cursor) AS c FROM changes').get() as { c: number | null };
    return r.c ?? 0;
  }
}
