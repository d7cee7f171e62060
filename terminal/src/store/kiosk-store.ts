import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import {
  chmodSync,
  closeSync,
  fdatasync,
  fstatSync,
  mkdirSync,
  openSync,
  stat,
  write,
} from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppError,
  DatabaseAheadError,
  SchemeDefinitionSchema,
  loadMigrations,
  migrate,
  residentAccount,
  type DeskEvent,
  type EventResult,
  type PushedEvent,
  type LedgerLine,
  type PullPage,
  type SchemeDefinition,
} from '@clubcard/shared';
import { StaffStore } from './staff-store.js';
import { OfferStore } from './offer-store.js';

/** Everything the outbox holds: card events, consent, and the enrolment desk's events. */
export type OutboxEvent = PushedEvent | DeskEvent;

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface KioskIdentity {
  kioskId: string;
  venueId: string;
  serviceId: string;
  /** Ed25519 private key, PKCS#8 DER base64. */
  privateKey: string;
  backendPublicKey: string;
  cardHashKey: string;
}

/**
 * What the rules engine may know of a resident at this kiosk: age band, and the
 * categories and consents published schemes use (pulled; empty until a backend sends them).
 */
export interface LocalEligibility {
  ageBand: string;
  categories: string[];
  consents: string[];
}

export interface LocalCard extends LocalEligibility {
  cardHash: string;
  residentRef: string;
  status: 'active' | 'blocked';
  firstName: string | null;
}

/** A stored JSON list of categories or consents (NULL, or anything not a list of strings: none). */
export function attributeList(json: string | null): string[] {
  if (json === null) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export interface LocalService {
  id: string;
  name: string;
  kind: string;
}

export interface LocalVenue {
  id: string;
  name: string;
  allowUidOnly: boolean;
  services: string[];
  type: string | null;
  ward: string | null;
}

export interface OutboxRow {
  seq: number;
  id: string;
  payload: string;
}

export interface RejectedEvent {
  seq: number;
  id: string;
  type: string;
  occurredAt: string;
  code: string | null;
  reason: string | null;
}

export interface DisplayBalance {
  wallet: string;
  amount: number;
  /** Part of the amount not yet confirmed by the backend. */
  provisional: number;
}

/** One event and its lines, as appendEvent builds and writes them. */
type BuiltEvent = { event: OutboxEvent; lines: LedgerLine[] };
type AppendWrites = (build: (seq: number) => BuiltEvent) => BuiltEvent;
/** Thrown to roll a rehearsal's transaction back (see rehearseAppend). */
const ROLLED_BACK = Symbol('rolled back');

/** appendEventFlushLater's answer: what appendEvent returns, and when it is durable. */
export interface FlushLater<E> {
  event: E;
  lines: LedgerLine[];
  /**
   * Settles once the commit is on disk; rejects with AppError('storage-error') when the
   * flush fails (the event is then committed but may not survive a power cut). Null: on
   * disk already (SQLite flushed it).
   */
  durable: Promise<void> | null;
}

/** Flushes a file's data to disk (fs.fdatasync's form). */
export type WalFlush = (fd: number, done: (err: Error | null) => void) => void;

export interface KioskStoreOptions {
  /** Replaces fs.fdatasync for the tap path's WAL flush (tests: slow or failing disks). */
  walFlush?: WalFlush;
}

/** What a resident's outstanding lines add to one wallet's pulled balance. */
interface OutstandingSum {
  amount: number;
  provisional: number;
}

/**
 * Write transactions after which the WAL is checkpointed once the work in hand is done
 * (a tap writes about 6 pages: some 600 pages, under SQLite's default of 1000).
 */
const CHECKPOINT_EVERY_WRITES = 100;
/** SQLite's own checkpoint at commit, kept only as a backstop for writes not counted. */
const BACKSTOP_CHECKPOINT_PAGES = 4000;

/** Residents whose outstanding sums are kept in memory before the cache starts over. */
const OUTSTANDING_CACHE_LIMIT = 10_000;

export interface OutboxStats {
  backlog: number;
  oldestUnsyncedAt: string | null;
  lastSeq: number;
  rejected: number;
}

/** Maps SQLite failures to codes the kiosk can show; nothing is half-written. */
export function storageError(e: unknown): AppError {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
  if (code === 'SQLITE_FULL') {
    return new AppError('storage-full', 'the kiosk’s disk is full: this tap was not recorded', {
      cause: e,
    });
  }
  return new AppError('storage-error', 'the kiosk could not record this tap', { cause: e });
}

/**
 * The kiosk's local store: one SQLite file, WAL, synchronous=FULL (a tap must survive a
 * power cut). Every tap is one transaction: event into the outbox plus its provisional
 * ledger lines. The tap path commits with appendEventFlushLater: the same transaction,
 * with its flush to disk run in the thread pool while the answer is prepared, and the
 * answer given once it is done.
 */
export class KioskStore {
  readonly db: Database.Database;
  readonly #stmts = new Map<string, Statement>();
  #schemes: SchemeDefinition[] | null = null;
  /**
   * Per resident, the sums of the lines balancesFor adds to the pulled balance, as of
   * `#outstandingSince`: read from the ledger once, then moved on by each committed
   * appendEvent, so a tap does not re-read every unsettled line of the resident. Dropped
   * whenever lines are settled or replaced, or a pull completes.
   */
  readonly #outstanding = new Map<string, Map<string, OutstandingSum>>();
  #outstandingSince = 0;
  #writesSinceCheckpoint = 0;
  readonly #append: Database.Transaction<AppendWrites>;
  /** #appendWrites, always rolled back (rehearseAppend). */
  readonly #rehearse: Database.Transaction<(build: (seq: number) => BuiltEvent) => never>;
  /**
   * The kiosk's identity and the venues and services it has read, kept until they are
   * written (setIdentity, a pull page): every tap reads them several times. Frozen, so
   * no caller can change what the next one reads.
   */
  #identity: KioskIdentity | null | undefined;
  readonly #venues = new Map<string, LocalVenue | null>();
  readonly #services = new Map<string, LocalService | null>();
  #checkpointPending = false;
  /** The last settle or pull-start time handed out (see #stamp); read when first needed. */
  #lastStamp: number | undefined;
  /** The file primeDisk writes, beside the database; null for an in-memory store. */
  readonly #primeFile: string | null;
  #primeFd: number | null = null;
  #priming = false;
  /** The byte primeDisk writes: one more (mod 256) each time. */
  readonly #primeBuf = Buffer.alloc(1);
  /** The WAL, flushed by appendEventFlushLater; null for an in-memory store. */
  readonly #walFile: string | null;
  #walFd: { fd: number; ino: number } | null = null;
  readonly #staleWalFds: number[] = [];
  /** The tap path's flush: fs.fdatasync unless a test makes it slow or fail. */
  readonly #fdatasync: WalFlush;
  /** appendEventFlushLater's flushes not yet done, and the lowest seq they cover. */
  #flushing = 0;
  #unflushedFrom: number | null = null;
  /** A flush failed: every later commit is flushed by SQLite itself, as any other. */
  #flushFailed = false;

  constructor(file: string, options: KioskStoreOptions = {}) {
    this.#fdatasync = options.walFlush ?? fdatasync;
    this.#primeFile = file === ':memory:' ? null : `${file}-prime`;
    this.#walFile = file === ':memory:' ? null : `${file}-wal`;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    if (file !== ':memory:') {
      try {
        chmodSync(file, 0o600); // holds the kiosk's signing key
      } catch {
        /* best effort on filesystems without modes */
      }
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // A checkpoint copies the WAL into the database file and syncs it: left to SQLite it
    // runs inside whichever commit crosses 1000 pages, a tap's among them. The commit is
    // durable once the WAL is synced, so the store checkpoints after the tap instead.
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    try {
      migrate(this.db, loadMigrations(MIGRATIONS_DIR));
    } catch (e) {
      this.db.close();
      if (e instanceof DatabaseAheadError) throw new AppError('database-ahead-of-code', e.message);
      throw e;
    }
    this.droppedSchemes = this.#dropUnreadableSchemes();
    this.#append = this.db.transaction(this.#appendWrites);
    this.#rehearse = this.db.transaction((build: Parameters<AppendWrites>[0]) => {
      this.#appendWrites(build);
      throw ROLLED_BACK;
    });
  }

  /**
   * Scheme versions this kiosk held but could no longer read when it opened (written by
   * an older version of the kiosk in a format the current one does not take): dropped,
   * and the pull started over so that the backend sends every scheme again as it holds
   * it now. Until then the kiosk's provisional answers leave those schemes out; the
   * backend's, which are authoritative, do not. Their ids, for the log.
   */
  readonly droppedSchemes: readonly string[];

  #dropUnreadableSchemes(): string[] {
    const rows = this.db
      .prepare('SELECT id, version, definition FROM schemes ORDER BY id, version')
      .all() as { id: string; version: number; definition: string }[];
    const readable: SchemeDefinition[] = [];
    const unreadable: typeof rows = [];
    for (const r of rows) {
      let parsed: ReturnType<typeof SchemeDefinitionSchema.safeParse> | null = null;
      try {
        parsed = SchemeDefinitionSchema.safeParse(JSON.parse(r.definition));
      } catch {
        // not even JSON
      }
      if (parsed?.success) readable.push(parsed.data);
      else unreadable.push(r);
    }
    // What is left is what listSchemes would read: kept, so it is not parsed again.
    this.#schemes = readable;
    if (unreadable.length === 0) return [];
    this.db.transaction(() => {
      const drop = this.db.prepare('DELETE FROM schemes WHERE id = ? AND version = ?');
      for (const r of unreadable) drop.run(r.id, r.version);
      this.setSetting('pull.cursor', '0');
    })();
    return unreadable.map((r) => `${r.id}@${r.version}`);
  }

  close(): void {
    this.db.close();
    if (this.#primeFd !== null && !this.#priming) closeSync(this.#primeFd);
    this.#primeFd = null;
    // A flush in flight closes the descriptor when it is done.
    if (this.#walFd !== null && this.#flushing === 0) closeSync(this.#walFd.fd);
    this.#walFd = null;
  }

  /**
   * Gets the disk ready for a commit about to come (a card is being read): one byte
   * rewritten in a small file beside the database and flushed, both off the main thread.
   * After the pause between taps, the first flush is the slow one (a paced one-row commit
   * on the development machine: p50 1.02-1.04 ms alone, 0.77-0.82 ms 2 ms after such a
   * flush); this takes it while the card is still answering. A hint only: one at a time,
   * and failures ignored (the commit reports its own).
   */
  primeDisk(): void {
    if (this.#primeFile === null || this.#priming || !this.db.open) return;
    try {
      // Same size every time: the flush is of data only, never of the file's length.
      this.#primeFd ??= openSync(this.#primeFile, 'w', 0o600);
    } catch {
      return;
    }
    const fd = this.#primeFd;
    this.#priming = true;
    const done = (): void => {
      this.#priming = false;
      // Closed meanwhile: close() left the descriptor to this callback.
      if (this.#primeFd === null) closeSync(fd);
    };
    // The write too runs off the main thread: there, a one-byte write (the file's times
    // updated with it) held the tap 0.07 ms at p50, handing it over 0.045 ms.
    this.#primeBuf[0] = ((this.#primeBuf[0] ?? 0) + 1) & 0xff;
    write(fd, this.#primeBuf, 0, 1, 0, (err) => {
      if (err) done();
      else fdatasync(fd, done);
    });
  }

  /**
   * Runs appendEvent's writes and rolls them back: nothing is kept (a rolled-back
   * transaction in WAL mode leaves the database as it was), but SQLite's code and the
   * pages the next commit touches are warm when it comes (see warmTapPath). Does nothing
   * inside a caller's transaction.
   */
  rehearseAppend<E extends OutboxEvent>(
    build: (seq: number) => { event: E; lines: LedgerLine[] },
  ): void {
    if (!this.db.open || this.db.inTransaction) return;
    try {
      this.#rehearse.immediate(build);
    } catch (e) {
      if (e !== ROLLED_BACK) throw e;
    }
  }

  /**
   * Counts one write transaction; every CHECKPOINT_EVERY_WRITES a passive checkpoint is
   * queued behind the work in hand (a tap's answer is sent before it runs).
   */
  #wrote(): void {
    if (++this.#writesSinceCheckpoint < CHECKPOINT_EVERY_WRITES || this.#checkpointPending) return;
    this.#checkpointPending = true;
    setImmediate(() => this.#checkpoint()).unref();
  }

  /**
   * The passive checkpoint #wrote queued. While a tap's flush is in flight it waits for
   * it (the flush's callback queues it again): a checkpoint syncs on the main thread, and
   * the tap's answer would wait behind it.
   */
  #checkpoint(): void {
    if (!this.#checkpointPending || this.#flushing > 0) return;
    this.#checkpointPending = false;
    if (!this.db.open || this.db.inTransaction) return;
    this.#writesSinceCheckpoint = 0;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or failing disk: the next write tries again, and SQLite's backstop remains.
    }
  }

  #s(sql: string): Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** A prepared statement, kept for reuse (for the stores that share this database). */
  prepared(sql: string): Statement {
    return this.#s(sql);
  }

  getSetting(key: string): string | null {
    const r = this.#s('SELECT value FROM settings WHERE key = ?').get(key) as
      { value: string } | undefined;
    return r?.value ?? null;
  }

  setSetting(key: string, value: string): void {
    if (key === 'identity') this.#identity = undefined;
    this.#s(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }

  identity(): KioskIdentity | null {
    if (this.#identity === undefined) {
      const v = this.getSetting('identity');
      const id = v ? Object.freeze(JSON.parse(v) as KioskIdentity) : null;
      // Not provisioned yet: read again next time (provisioning may be under way).
      if (id === null) return null;
      this.#identity = id;
    }
    return this.#identity;
  }

  setIdentity(id: KioskIdentity): void {
    this.setSetting('identity', JSON.stringify(id));
  }

  pullCursor(): number {
    return Number(this.getSetting('pull.cursor') ?? '0');
  }

  getCard(hash: string): LocalCard | null {
    const r = this.#s(
      `SELECT card_hash AS cardHash, resident_ref AS residentRef, status, first_name AS firstName, age_band AS ageBand,
         categories, consents
       FROM cards WHERE card_hash = ?`,
    ).get(hash) as
      | (Omit<LocalCard, 'categories' | 'consents'> & {
          categories: string | null;
          consents: string | null;
        })
      | undefined;
    if (!r) return null;
    return { ...r, categories: attributeList(r.categories), consents: attributeList(r.consents) };
  }

  /**
   * A resident's age band, categories and consents as pulled with their cards (the most
   * recently updated card), or null for a resident this kiosk does not know.
   */
  eligibilityOf(residentRef: string): LocalEligibility | null {
    const r = this.#s(
      `SELECT age_band AS ageBand, categories, consents FROM cards WHERE resident_ref = ?
       ORDER BY categories IS NULL, updated_at DESC, card_hash LIMIT 1`,
    ).get(residentRef) as
      { ageBand: string; categories: string | null; consents: string | null } | undefined;
    if (!r) return null;
    return {
      ageBand: r.ageBand,
      categories: attributeList(r.categories),
      consents: attributeList(r.consents),
    };
  }

  getService(id: string): LocalService | null {
    let service = this.#services.get(id);
    if (service === undefined) {
      const r = this.#s('SELECT id, name, kind FROM services WHERE id = ?').get(id) as
        LocalService | undefined;
      service = r ? Object.freeze(r) : null;
      this.#services.set(id, service);
    }
    return service;
  }

  getVenue(id: string): LocalVenue | null {
    let venue = this.#venues.get(id);
    if (venue === undefined) {
      venue = this.#readVenue(id);
      this.#venues.set(id, venue);
    }
    return venue;
  }

  #readVenue(id: string): LocalVenue | null {
    const r = this.#s(
      'SELECT id, name, allow_uid_only, services, type, ward FROM venues WHERE id = ?',
    ).get(id) as
      | {
          id: string;
          name: string;
          allow_uid_only: number;
          services: string;
          type: string | null;
          ward: string | null;
        }
      | undefined;
    if (!r) return null;
    return Object.freeze({
      id: r.id,
      name: r.name,
      allowUidOnly: r.allow_uid_only === 1,
      services: Object.freeze(JSON.parse(r.services) as string[]) as string[],
      type: r.type,
      ward: r.ward,
    });
  }

  listSchemes(): SchemeDefinition[] {
    // Parsed once and kept until a pull brings new versions: the tap path must not
    // re-validate every scheme on every tap.
    this.#schemes ??= (
      this.#s('SELECT definition FROM schemes ORDER BY id, version').all() as {
        definition: string;
      }[]
    ).map((r) => SchemeDefinitionSchema.parse(JSON.parse(r.definition)));
    return this.#schemes;
  }

  /**
   * Appends one event and its provisional lines in ONE transaction. The sequence is
   * assigned inside the transaction (gap-free: max + 1), and `build` receives it; what
   * `build` writes to the store (a desk's new card) commits or rolls back with the event.
   */
  appendEvent<E extends OutboxEvent>(
    build: (seq: number) => { event: E; lines: LedgerLine[] },
  ): {
    event: E;
    lines: LedgerLine[];
  } {
    // Inside a caller's transaction the lines may yet roll back with it.
    const nested = this.db.inTransaction;
    let built: { event: E; lines: LedgerLine[] };
    try {
      built = this.#append.immediate(build) as { event: E; lines: LedgerLine[] };
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw storageError(e);
    }
    this.#wrote();
    const residentRef = built.event.residentRef;
    if (residentRef !== null && built.lines.length > 0) {
      if (nested) this.#outstanding.delete(residentRef);
      else this.#addOutstanding(residentRef, built.lines);
    }
    return built;
  }

  /**
   * appendEvent for the tap path: the commit is written to the WAL but not flushed by
   * SQLite (synchronous=NORMAL for this one transaction); the WAL is then flushed in the
   * thread pool while the caller prepares its answer, which it gives only once `durable`
   * settles. Until then the event is not handed to the sync (pendingBatch leaves it out),
   * so nothing leaves the kiosk that a power cut could take back. Inside a caller's
   * transaction, for an in-memory store and after a failed flush, it is appendEvent.
   */
  appendEventFlushLater<E extends OutboxEvent>(
    build: (seq: number) => { event: E; lines: LedgerLine[] },
  ): FlushLater<E> {
    if (this.#walFile === null || this.db.inTransaction || this.#flushFailed) {
      return { ...this.appendEvent(build), durable: null };
    }
    this.#s('PRAGMA synchronous = NORMAL').run();
    let built: { event: E; lines: LedgerLine[] };
    try {
      built = this.appendEvent(build);
    } finally {
      this.#s('PRAGMA synchronous = FULL').run();
    }
    return { ...built, durable: this.#flushWal(built.event.seq) };
  }

  /**
   * Flushes the WAL (everything committed so far) in the thread pool. SQLite keeps one
   * WAL file while a connection is open, but should it have made a new one since the
   * descriptor was opened, the new file is flushed too: that check (a stat of the path)
   * runs in the thread pool beside the flush, not on the main thread before it.
   */
  #flushWal(seq: number): Promise<void> {
    let wal: { fd: number; ino: number };
    try {
      wal = this.#walDescriptor();
    } catch (e) {
      this.#flushFailed = true;
      const failed = Promise.reject(storageError(e));
      failed.catch(() => undefined); // as below
      return failed;
    }
    this.#flushing++;
    this.#unflushedFrom ??= seq;
    const flushed = new Promise<void>((resolve, reject) => {
      let pending = 2;
      let failure: unknown = null;
      /** The inode now at the WAL's path, when it is not the one flushed. */
      let newIno: number | null = null;
      const finish = (): void => {
        if (--this.#flushing === 0) {
          this.#unflushedFrom = null;
          // Descriptors left to the last flush: closed meanwhile, or a WAL file replaced.
          for (const old of this.#staleWalFds.splice(0)) closeSync(old);
          if (this.#walFd === null) closeSync(wal.fd);
          else if (this.#checkpointPending) setImmediate(() => this.#checkpoint()).unref();
        }
        if (failure !== null) {
          this.#flushFailed = true;
          reject(storageError(failure));
        } else resolve();
      };
      const settle = (): void => {
        // Closed meanwhile: closing checkpointed the WAL into the database, synced.
        if (failure !== null || newIno === null || this.#walFd === null) return finish();
        // A new WAL since the descriptor was opened: the commit is in that one.
        let current: { fd: number; ino: number };
        try {
          current = this.#walFd.ino === newIno ? this.#walFd : this.#walDescriptor(true);
        } catch (e) {
          failure = e;
          return finish();
        }
        this.#fdatasync(current.fd, (err) => {
          if (err) failure = err;
          finish();
        });
      };
      this.#fdatasync(wal.fd, (err) => {
        if (err) failure ??= err;
        if (--pending === 0) settle();
      });
      stat(this.#walFile as string, (err, st) => {
        if (this.#walFd !== null) {
          if (err) failure ??= err;
          else if (st.ino !== wal.ino) newIno = st.ino;
        }
        if (--pending === 0) settle();
      });
    });
    // A caller that failed before awaiting it must not bring the process down.
    flushed.catch(() => undefined);
    return flushed;
  }

  /**
   * The WAL's descriptor and the inode it was opened on: opened on the first flush, and
   * again when `reopen` (a flush found a new WAL file at the path).
   */
  #walDescriptor(reopen = false): { fd: number; ino: number } {
    if (this.#walFd !== null && !reopen) return this.#walFd;
    const fd = openSync(this.#walFile as string, 'r');
    let ino: number;
    try {
      ino = fstatSync(fd).ino;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    if (this.#walFd !== null) {
      if (this.#flushing === 0) closeSync(this.#walFd.fd);
      else this.#staleWalFds.push(this.#walFd.fd);
    }
    this.#walFd = { fd, ino };
    return this.#walFd;
  }

  /** appendEvent's writes: run as #append, a transaction made once, not on every tap. */
  readonly #appendWrites: AppendWrites = (build) => {
    const top = this.#s('SELECT COALESCE(MAX(seq), 0) AS top FROM outbox').get() as {
      top: number;
    };
    const built = build(top.top + 1);
    const e = built.event;
    this.#s(
      'INSERT INTO outbox (seq, id, type, resident_ref, occurred_at, payload) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(e.seq, e.id, e.type, e.residentRef, e.occurredAt, JSON.stringify(e));
    this.#insertLines(built.lines, e.residentRef, false);
    if (e.type === 'visit' && e.auth.counter !== null)
      this.#raiseCounter(e.cardHash, e.auth.counter);
    // A card issued here: its read-back's SUN message is spent too.
    else if ((e.type === 'enrolment' || e.type === 'card-replacement') && e.counter != null)
      this.#raiseCounter(e.cardHash, e.counter);
    return built;
  };

  /** Moves a cached resident's outstanding sums on by newly committed provisional lines. */
  #addOutstanding(residentRef: string, lines: readonly LedgerLine[]): void {
    const sums = this.#outstanding.get(residentRef);
    if (!sums) return;
    const account = residentAccount(residentRef);
    for (const l of lines) {
      const delta = lineDelta(l.from, l.to, l.amount, account);
      const cur = sums.get(l.wallet) ?? { amount: 0, provisional: 0 };
      cur.amount += delta;
      cur.provisional += delta;
      sums.set(l.wallet, cur);
    }
  }

  #insertLines(lines: readonly LedgerLine[], residentRef: string, authoritative: boolean): void {
    const s = this.#s(
      `INSERT INTO ledger_lines (event_id, idx, resident_ref, wallet, from_account, to_account, amount, authoritative)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const l of lines) {
      s.run(
        l.eventId,
        l.index,
        residentRef,
        l.wallet,
        l.from,
        l.to,
        l.amount,
        authoritative ? 1 : 0,
      );
    }
  }

  #raiseCounter(cardHash: string, counter: number): void {
    this.#s(
      `INSERT INTO card_counters (card_hash, highest) VALUES (?, ?)
       ON CONFLICT(card_hash) DO UPDATE SET highest = MAX(highest, excluded.highest)`,
    ).run(cardHash, counter);
  }

  /** Highest SUN counter seen for a card, here or (by sync) anywhere. */
  highestCounter(cardHash: string): number | null {
    const r = this.#s('SELECT highest FROM card_counters WHERE card_hash = ?').get(cardHash) as
      { highest: number } | undefined;
    return r?.highest ?? null;
  }

  /** Was this card issued as a secure card (so it must always prove itself)? */
  requiresProof(cardHash: string): boolean {
    const r = this.#s('SELECT technology FROM cards WHERE card_hash = ?').get(cardHash) as
      { technology: string | null } | undefined;
    return r?.technology === 'ntag424' || r?.technology === 'desfire';
  }

  /** The next events to push, oldest first. */
  pendingBatch(limit: number): OutboxRow[] {
    // A tap whose flush is in flight is not pushed yet (see appendEventFlushLater).
    if (this.#unflushedFrom !== null) {
      return this.#s(
        "SELECT seq, id, payload FROM outbox WHERE status = 'pending' AND seq < ? ORDER BY seq LIMIT ?",
      ).all(this.#unflushedFrom, limit) as OutboxRow[];
    }
    return this.#s(
      "SELECT seq, id, payload FROM outbox WHERE status = 'pending' ORDER BY seq LIMIT ?",
    ).all(limit) as OutboxRow[];
  }

  /**
   * Records the backend's answer: status per event, and its authoritative lines in place
   * of the provisional ones. One transaction.
   */
  settle(results: readonly EventResult[], at: number): void {
    const settledAt = this.#stamp(at);
    this.db.transaction(() => {
      for (const r of results) {
        const row = this.#s(
          "SELECT resident_ref FROM outbox WHERE id = ? AND status = 'pending'",
        ).get(r.id) as { resident_ref: string | null } | undefined;
        if (!row) continue;
        this.#s(
          'UPDATE outbox SET status = ?, reject_code = ?, reject_reason = ?, settled_at = ? WHERE id = ?',
        ).run(r.status, r.code ?? null, r.reason ?? null, settledAt, r.id);
        this.#s('DELETE FROM ledger_lines WHERE event_id = ?').run(r.id);
        if (row.resident_ref) this.#insertLines(r.lines, row.resident_ref, true);
      }
    })();
    this.#outstanding.clear();
    this.#wrote();
  }

  /**
   * Marks the start of a pull (its pages are applied with the value returned): every
   * settle before it has an earlier time, every settle after it a later one, even within
   * one millisecond. That is what lets balancesFor tell the settled lines a pulled balance
   * includes from those it cannot include yet.
   */
  beginPull(now: number): number {
    return this.#stamp(now);
  }

  /** `at`, or just after the last time handed out when `at` is not later (ms, strictly increasing). */
  #stamp(at: number): number {
    this.#lastStamp ??= Math.max(
      (this.#s('SELECT MAX(settled_at) AS m FROM outbox').get() as { m: number | null }).m ?? 0,
      Number(this.getSetting('pull.complete-started-at') ?? '0'),
    );
    const t = Math.max(at, this.#lastStamp + 1);
    this.#lastStamp = t;
    return t;
  }

  /**
   * Applies one verified pull page. Upserts only: a pulled page never deletes a card, so
   * a bad list cannot wipe the kiosk's knowledge of its cards.
   */
  applyPullPage(page: PullPage, pullStartedAt: number): void {
    this.db.transaction(() => {
      const now = Date.now();
      for (const c of page.cards) {
        if (c.highestCounter !== undefined && c.highestCounter !== null) {
          this.#raiseCounter(c.cardHash, c.highestCounter);
        }
        this.#s(
          `INSERT INTO cards (card_hash, resident_ref, status, first_name, age_band, updated_at, technology, categories, consents)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(card_hash) DO UPDATE SET resident_ref = excluded.resident_ref, status = excluded.status,
             first_name = excluded.first_name, age_band = excluded.age_band, updated_at = excluded.updated_at,
             technology = COALESCE(excluded.technology, cards.technology),
             categories = COALESCE(excluded.categories, cards.categories),
             consents = COALESCE(excluded.consents, cards.consents)`,
        ).run(
          c.cardHash,
          c.residentRef,
          c.status,
          c.firstName,
          c.ageBand,
          now,
          c.technology ?? null,
          // The lists sent replace what was held; absent (an older backend): kept.
          c.categories ? JSON.stringify(c.categories) : null,
          c.consents ? JSON.stringify(c.consents) : null,
        );
      }
      for (const b of page.balances) {
        this.#s(
          `INSERT INTO balances (resident_ref, wallet, amount) VALUES (?, ?, ?)
           ON CONFLICT(resident_ref, wallet) DO UPDATE SET amount = excluded.amount`,
        ).run(b.residentRef, b.wallet, b.amount);
      }
      for (const s of page.services) {
        this.#s(
          'INSERT INTO services (id, name, kind) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind',
        ).run(s.id, s.name, s.kind);
      }
      for (const v of page.venues) {
        this.#s(
          `INSERT INTO venues (id, name, allow_uid_only, services, type, ward) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET name = excluded.name, allow_uid_only = excluded.allow_uid_only,
             services = excluded.services, type = excluded.type, ward = excluded.ward`,
        ).run(
          v.id,
          v.name,
          v.allowUidOnly ? 1 : 0,
          JSON.stringify(v.services),
          v.type ?? null,
          v.ward ?? null,
        );
      }
      if (page.schemes.length > 0) this.#schemes = null;
      for (const s of page.schemes) {
        this.#s(
          // The backend's copy, as it holds it now (a version's rules never change, but
          // the format it is written in may have since this kiosk stored it).
          `INSERT INTO schemes (id, version, definition) VALUES (?, ?, ?)
           ON CONFLICT(id, version) DO UPDATE SET definition = excluded.definition`,
        ).run(s.id, s.version, JSON.stringify(s));
      }
      if (page.staff) new StaffStore(this.db).applyStaff(page.staff, now);
      if (page.offers || page.offerResidents) new OfferStore(this.db).apply(page, now);
      this.setSetting('pull.cursor', String(page.nextCursor));
      // Once the feed is drained, every event settled before this pull began is
      // included in the pulled balances.
      if (!page.hasMore) this.setSetting('pull.complete-started-at', String(pullStartedAt));
    })();
    this.#outstanding.clear();
    this.#venues.clear();
    this.#services.clear();
    this.#wrote();
  }

  /**
   * What the resident sees: pulled balance plus this kiosk's lines that the pulled
   * balance cannot include yet (unsettled, or settled after the last complete pull began).
   */
  balancesFor(residentRef: string): DisplayBalance[] {
    const since = Number(this.getSetting('pull.complete-started-at') ?? '0');
    const out = new Map<string, DisplayBalance>();
    for (const b of this.#s('SELECT wallet, amount FROM balances WHERE resident_ref = ?').all(
      residentRef,
    ) as {
      wallet: string;
      amount: number;
    }[]) {
      out.set(b.wallet, { wallet: b.wallet, amount: b.amount, provisional: 0 });
    }
    for (const [wallet, sum] of this.#outstandingOf(residentRef, since)) {
      const cur = out.get(wallet) ?? { wallet, amount: 0, provisional: 0 };
      cur.amount += sum.amount;
      cur.provisional += sum.provisional;
      out.set(wallet, cur);
    }
    return [...out.values()].sort((a, b) => (a.wallet < b.wallet ? -1 : 1));
  }

  /** The sums of a resident's outstanding lines per wallet: cached, or read and cached. */
  #outstandingOf(residentRef: string, since: number): Map<string, OutstandingSum> {
    if (since !== this.#outstandingSince) {
      this.#outstanding.clear();
      this.#outstandingSince = since;
    }
    const cached = this.#outstanding.get(residentRef);
    if (cached) return cached;
    const account = residentAccount(residentRef);
    const sums = new Map<string, OutstandingSum>();
    const lines = this.#s(
      `SELECT l.wallet, l.from_account AS fromAccount, l.to_account AS toAccount, l.amount, l.authoritative
       FROM ledger_lines l JOIN outbox o ON o.id = l.event_id
       WHERE l.resident_ref = ? AND (o.settled_at IS NULL OR o.settled_at >= ?)`,
    ).all(residentRef, since) as {
      wallet: string;
      fromAccount: string;
      toAccount: string;
      amount: number;
      authoritative: number;
    }[];
    for (const l of lines) {
      const delta = lineDelta(l.fromAccount, l.toAccount, l.amount, account);
      const cur = sums.get(l.wallet) ?? { amount: 0, provisional: 0 };
      cur.amount += delta;
      if (!l.authoritative) cur.provisional += delta;
      sums.set(l.wallet, cur);
    }
    // What an open transaction wrote may yet roll back: only committed state is kept.
    if (!this.db.inTransaction) {
      if (this.#outstanding.size >= OUTSTANDING_CACHE_LIMIT) this.#outstanding.clear();
      this.#outstanding.set(residentRef, sums);
    }
    return sums;
  }

  stats(): OutboxStats {
    // Events are pushed and settled in sequence order, so the pending ones are always a
    // suffix of the outbox: two index lookups, never a scan of a week-long backlog.
    const p = this.#s(
      "SELECT seq, occurred_at AS oldest FROM outbox WHERE status = 'pending' ORDER BY seq LIMIT 1",
    ).get() as { seq: number; oldest: string } | undefined;
    const top = this.#s('SELECT COALESCE(MAX(seq), 0) AS top FROM outbox').get() as { top: number };
    const rej = this.#s("SELECT COUNT(*) AS n FROM outbox WHERE status = 'rejected'").get() as {
      n: number;
    };
    return {
      backlog: p ? top.top - p.seq + 1 : 0,
      oldestUnsyncedAt: p?.oldest ?? null,
      lastSeq: top.top,
      rejected: rej.n,
    };
  }

  rejectedEvents(limit = 100): RejectedEvent[] {
    return this.#s(
      `SELECT seq, id, type, occurred_at AS occurredAt, reject_code AS code, reject_reason AS reason
       FROM outbox WHERE status = 'rejected' ORDER BY seq DESC LIMIT ?`,
    ).all(limit) as RejectedEvent[];
  }
}

/** What one ledger line does to an account: credited to it, debited from it, or neither. */
function lineDelta(from: string, to: string, amount: number, account: string): number {
  return (to === account ? amount : 0) - (from === account ? amount : 0);
}
