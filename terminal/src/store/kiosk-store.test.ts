import { describe, expect, it } from 'vitest';
import {
  existsSync,
  fdatasync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  AppError,
  newEventId,
  PullPageSchema,
  residentAccount,
  type KioskEvent,
  type LedgerLine,
} from '@clubcard/shared';
import { ASHA, EARN_ON_SWIM, hashOf, testKiosk } from '../core/test-kiosk.js';
import { KioskStore } from './kiosk-store.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'kstore-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withDirAsync(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kstore-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A store whose tap flushes wait until the test releases them. */
function storeWithHeldFlushes(file: string): { store: KioskStore; held: (() => void)[] } {
  const held: (() => void)[] = [];
  const store = new KioskStore(file, {
    walFlush: (fd, done) => held.push(() => fdatasync(fd, done)),
  });
  return { store, held };
}

function visit(seq: number): KioskEvent {
  return {
    id: newEventId(),
    kioskId: 'k-test' as KioskEvent['kioskId'],
    seq,
    occurredAt: new Date().toISOString(),
    venueId: 'v-test' as KioskEvent['venueId'],
    type: 'visit',
    cardHash: 'a'.repeat(64) as KioskEvent['cardHash'],
    residentRef: 'r-abcdefgh' as KioskEvent['residentRef'],
    serviceId: 's-test' as KioskEvent['serviceId'],
    auth: { method: 'simulated', keyVersion: null, counter: null },
    assisted: false,
  };
}

const RESIDENT = 'r-abcdefgh';

/** A provisional line of an event: `amount` to the resident, or from them when negative. */
function line(eventId: string, index: number, wallet: string, amount: number): LedgerLine {
  const scheme = `scheme:${wallet}` as LedgerLine['from'];
  const resident = residentAccount(RESIDENT);
  return {
    eventId: eventId as LedgerLine['eventId'],
    index,
    schemeId: wallet as LedgerLine['schemeId'],
    schemeVersion: 1,
    ruleId: 'rule',
    wallet: wallet as LedgerLine['wallet'],
    from: amount > 0 ? scheme : resident,
    to: amount > 0 ? resident : scheme,
    amount: Math.abs(amount),
  };
}

function visitWith(store: KioskStore, ...amounts: [wallet: string, amount: number][]): string {
  return store.appendEvent((seq) => {
    const event = visit(seq);
    return { event, lines: amounts.map(([w, a], i) => line(event.id, i, w, a)) };
  }).event.id;
}

describe('kiosk store', () => {
  it('runs its migrations on an empty file with WAL and synchronous=FULL', () => {
    withDir((dir) => {
      const store = new KioskStore(join(dir, 'k.sqlite'));
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
      store.close();
    });
  });

  it('refuses a database written by newer code', () => {
    withDir((dir) => {
      const file = join(dir, 'k.sqlite');
      new KioskStore(file).close();
      const raw = new Database(file);
      raw
        .prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (42, 'future', 0)")
        .run();
      raw.close();
      expect(() => new KioskStore(file)).toThrow(/newer code/);
    });
  });

  it('readies the disk for a coming commit: one byte rewritten beside the database, one flush at a time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstore-'));
    try {
      const file = join(dir, 'k.sqlite');
      const store = new KioskStore(file);
      store.primeDisk();
      store.primeDisk(); // while the first write and flush run: skipped
      await new Promise((r) => setTimeout(r, 100));
      expect(readFileSync(`${file}-prime`)).toEqual(Buffer.of(1));
      store.primeDisk();
      await new Promise((r) => setTimeout(r, 100));
      // The same one byte, rewritten: the file never grows.
      expect(readFileSync(`${file}-prime`)).toEqual(Buffer.of(2));
      store.primeDisk();
      store.close(); // mid-flush: the descriptor is closed when the flush ends
      expect(() => store.primeDisk()).not.toThrow();
      await new Promise((r) => setTimeout(r, 100));

      // A hint only: a prime that cannot be written changes nothing and throws nothing.
      const other = join(dir, 'other.sqlite');
      mkdirSync(`${other}-prime`);
      const blocked = new KioskStore(other);
      expect(() => blocked.primeDisk()).not.toThrow();
      blocked.appendEvent((seq) => ({ event: visit(seq), lines: [] }));
      expect(blocked.pendingBatch(10)).toHaveLength(1);
      blocked.close();

      const memory = new KioskStore(':memory:');
      memory.primeDisk();
      expect(existsSync(':memory:-prime')).toBe(false);
      memory.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('flushes a tap in the thread pool: not pushed, nor checkpointed, until it is on disk', async () => {
    await withDirAsync(async (dir) => {
      const file = join(dir, 'k.sqlite');
      const { store, held } = storeWithHeldFlushes(file);
      const first = store.appendEventFlushLater((seq) => ({ event: visit(seq), lines: [] }));
      // Only that one commit is left unflushed by SQLite: FULL again straight after.
      expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
      expect(first.event.seq).toBe(1);
      expect(held).toHaveLength(1);
      let onDisk = false;
      expect(first.durable).not.toBeNull();
      void first.durable?.then(() => (onDisk = true));
      // Committed and counted, but not handed to the sync before it is on disk.
      expect(store.stats().lastSeq).toBe(1);
      expect(store.pendingBatch(10)).toEqual([]);

      // A run long enough to queue a checkpoint: it waits for the flushes.
      const rest = Array.from({ length: 99 }, () =>
        store.appendEventFlushLater((seq) => ({ event: visit(seq), lines: [] })),
      );
      await new Promise((resolve) => setImmediate(resolve));
      type Wal = { log: number; checkpointed: number }[];
      const [during] = store.db.pragma('wal_checkpoint(NOOP)') as Wal;
      expect(during?.log).toBeGreaterThan(100);
      expect(during?.checkpointed).toBe(0);
      expect(onDisk).toBe(false);
      expect(store.pendingBatch(1000)).toEqual([]);

      for (const release of held.splice(0)) release();
      await Promise.all([first, ...rest].map((a) => a.durable));
      expect(rest.every((a) => a.durable !== null)).toBe(true);
      expect(onDisk).toBe(true);
      expect(store.pendingBatch(1000).map((r) => r.seq)).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      await new Promise((resolve) => setImmediate(resolve));
      const [after] = store.db.pragma('wal_checkpoint(NOOP)') as Wal;
      expect(after?.checkpointed).toBe(after?.log);
      store.close();

      // Everything survives a reopen (the flushes were real).
      const again = new KioskStore(file);
      expect(again.pendingBatch(1000)).toHaveLength(100);
      again.close();
    });
  });

  it('flushes the WAL file SQLite writes now, should it have made a new one since the last flush', async () => {
    await withDirAsync(async (dir) => {
      const file = join(dir, 'k.sqlite');
      const flushed: number[] = [];
      const store = new KioskStore(file, {
        walFlush: (fd, done) => {
          flushed.push(fstatSync(fd).ino);
          fdatasync(fd, done);
        },
      });
      await store.appendEventFlushLater((seq) => ({ event: visit(seq), lines: [] })).durable;
      const firstWal = statSync(`${file}-wal`).ino;
      expect(flushed).toEqual([firstWal]);
      // Out of WAL mode and back: SQLite deletes the WAL file and makes another.
      store.db.pragma('journal_mode = DELETE');
      expect(existsSync(`${file}-wal`)).toBe(false);
      store.db.pragma('journal_mode = WAL');
      store.db.pragma('synchronous = FULL');
      const second = store.appendEventFlushLater((seq) => ({ event: visit(seq), lines: [] }));
      await second.durable;
      const newWal = statSync(`${file}-wal`).ino;
      // The old descriptor's flush, then the new file's, before the tap was durable.
      expect(flushed.slice(1)).toEqual([firstWal, newWal]);
      await store.appendEventFlushLater((seq) => ({ event: visit(seq), lines: [] })).durable;
      expect(flushed.slice(3)).toEqual([newWal]); // the new descriptor is kept
      expect(store.pendingBatch(10).map((r) => r.seq)).toEqual([1, 2, 3]);
      store.close();
    });
  });

  it('settles a flush in flight when the store is closed (closing checkpoints the WAL)', async () => {
    await withDirAsync(async (dir) => {
      const file = join(dir, 'k.sqlite');
      const { store, held } = storeWithHeldFlushes(file);
      const tap = store.appendEventFlushLater((seq) => ({ event: visit(seq), lines: [] }));
      store.close();
      expect(existsSync(`${file}-wal`)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const release of held.splice(0)) release();
      await expect(tap.durable).resolves.toBeUndefined();
      const again = new KioskStore(file);
      expect(again.pendingBatch(10).map((r) => r.seq)).toEqual([1]);
      again.close();
    });
  });

  it('reports a failed flush as a storage error, and leaves every later commit to SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstore-'));
    try {
      let flushes = 0;
      const store = new KioskStore(join(dir, 'k.sqlite'), {
        walFlush: (_fd, done) => {
          flushes++;
          setImmediate(() => done(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })));
        },
      });
      const failed = store.appendEventFlushLater((seq) => ({ event: visit(seq), lines: [] }));
      expect(failed.durable).not.toBeNull();
      await expect(failed.durable).rejects.toMatchObject({ code: 'storage-error' });
      // Committed all the same: it happened, and goes to the backend if it survives.
      expect(store.pendingBatch(10).map((r) => r.seq)).toEqual([1]);
      const next = store.appendEventFlushLater((seq) => ({ event: visit(seq), lines: [] }));
      expect(next.durable).toBeNull(); // flushed by SQLite before it returned
      expect(flushes).toBe(1);
      expect(store.pendingBatch(10).map((r) => r.seq)).toEqual([1, 2]);
      store.close();

      // In memory there is nothing to flush.
      const memory = new KioskStore(':memory:', {
        walFlush: () => {
          throw new Error('never called');
        },
      });
      const m = memory.appendEventFlushLater((seq) => ({ event: visit(seq), lines: [] }));
      expect(m.durable).toBeNull();
      expect(memory.pendingBatch(10)).toHaveLength(1);
      memory.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rehearses a commit and rolls it back: the next commit gets the same sequence, nothing is kept', () => {
    withDir((dir) => {
      const store = new KioskStore(join(dir, 'k.sqlite'));
      store.appendEvent((seq) => ({ event: visit(seq), lines: [] }));
      const before = { stats: store.stats(), batch: store.pendingBatch(10) };
      const seen: number[] = [];
      store.rehearseAppend((seq) => {
        seen.push(seq);
        return { event: visit(seq), lines: [] };
      });
      expect(seen).toEqual([2]);
      expect(store.stats()).toEqual(before.stats);
      expect(store.pendingBatch(10)).toEqual(before.batch);
      expect(store.db.inTransaction).toBe(false);
      // A build that fails is the caller's to hear of; still nothing kept.
      expect(() =>
        store.rehearseAppend(() => {
          throw new Error('engine failed');
        }),
      ).toThrow('engine failed');
      // Inside a caller's transaction it does nothing (it would roll back the caller's work).
      store.db.transaction(() => {
        store.rehearseAppend((seq) => {
          seen.push(seq);
          return { event: visit(seq), lines: [] };
        });
      })();
      expect(seen).toEqual([2]);
      expect(store.appendEvent((seq) => ({ event: visit(seq), lines: [] })).event.seq).toBe(2);
      store.close();
    });
  });

  it('drops cached schemes it can no longer read (an older format) and pulls every scheme again', () => {
    withDir((dir) => {
      const file = join(dir, 'k.sqlite');
      const { store } = testKiosk([EARN_ON_SWIM], [], new KioskStore(file));
      expect(store.droppedSchemes).toEqual([]);
      expect(store.listSchemes().map((x) => x.id)).toEqual([EARN_ON_SWIM.id]);
      expect(store.pullCursor()).toBe(1);
      // As an older kiosk wrote it: a fixed amount as a bare number.
      const old = JSON.parse(JSON.stringify(EARN_ON_SWIM)) as { earning: { amount: unknown }[] };
      (old.earning[0] as { amount: unknown }).amount = 10;
      store.db
        .prepare('UPDATE schemes SET definition = ? WHERE id = ?')
        .run(JSON.stringify(old), EARN_ON_SWIM.id);
      store.db
        .prepare("INSERT INTO schemes (id, version, definition) VALUES ('torn', 1, '{\"id\":')")
        .run();
      store.close();

      const reopened = new KioskStore(file);
      expect(reopened.droppedSchemes).toEqual([`${EARN_ON_SWIM.id}@1`, 'torn@1']);
      // Taps go on (the schemes left out), and the next pull starts from the beginning.
      expect(reopened.listSchemes()).toEqual([]);
      expect(reopened.pullCursor()).toBe(0);
      expect(reopened.getCard(hashOf(ASHA.uid))?.residentRef).toBe(ASHA.residentRef);
      // The backend's copy replaces whatever a kiosk held of a version.
      testKiosk([EARN_ON_SWIM], [], reopened);
      expect(reopened.listSchemes().map((x) => [x.id, x.earning[0]?.amount])).toEqual([
        [EARN_ON_SWIM.id, { kind: 'fixed', value: 10 }],
      ]);
      reopened.close();
      const again = new KioskStore(file);
      expect(again.droppedSchemes).toEqual([]);
      // Read once, on opening: the schemes kept are the ones a tap evaluates under.
      expect(again.listSchemes().map((x) => [x.id, x.earning[0]?.amount])).toEqual([
        [EARN_ON_SWIM.id, { kind: 'fixed', value: 10 }],
      ]);
      again.close();
    });
  });

  it('assigns gap-free sequence numbers inside the tap transaction', () => {
    withDir((dir) => {
      const store = new KioskStore(join(dir, 'k.sqlite'));
      for (let i = 0; i < 5; i++) store.appendEvent((seq) => ({ event: visit(seq), lines: [] }));
      expect(store.pendingBatch(10).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
      store.close();
    });
  });

  it('fails a real write on a full disk cleanly: clear error, earlier taps intact', () => {
    withDir((dir) => {
      const store = new KioskStore(join(dir, 'k.sqlite'));
      store.appendEvent((seq) => ({ event: visit(seq), lines: [] }));
      // Cap the database at its current size so the next insert hits SQLITE_FULL.
      const pages = store.db.pragma('page_count', { simple: true }) as number;
      store.db.pragma(`max_page_count = ${pages}`);
      let err: unknown;
      try {
        for (let i = 0; i < 200; i++) {
          store.appendEvent((seq) => ({ event: visit(seq), lines: [] }));
        }
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('storage-full');
      const seqs = store.pendingBatch(1000).map((r) => r.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // still gap-free: nothing half-written
      store.close();
    });
  });

  it('shows the same balances tap after tap as a store reading every line afresh', () => {
    withDir((dir) => {
      const file = join(dir, 'k.sqlite');
      const store = new KioskStore(file);
      // What a store that has cached nothing reads from the file.
      const fresh = (): ReturnType<KioskStore['balancesFor']> => {
        const other = new KioskStore(file);
        try {
          return other.balancesFor(RESIDENT);
        } finally {
          other.close();
        }
      };
      expect(store.balancesFor(RESIDENT)).toEqual([]);
      const first = visitWith(store, ['living-credit', 10], ['time', 1]);
      expect(store.balancesFor(RESIDENT)).toEqual([
        { wallet: 'living-credit', amount: 10, provisional: 10 },
        { wallet: 'time', amount: 1, provisional: 1 },
      ]);
      visitWith(store, ['living-credit', 10]);
      visitWith(store, ['living-credit', -4]);
      expect(store.balancesFor(RESIDENT)).toEqual([
        { wallet: 'living-credit', amount: 16, provisional: 16 },
        { wallet: 'time', amount: 1, provisional: 1 },
      ]);
      expect(store.balancesFor(RESIDENT)).toEqual(fresh());

      // The backend's answer replaces the first visit's lines with its own.
      store.settle(
        [
          {
            id: first as LedgerLine['eventId'],
            seq: 1,
            status: 'accepted',
            lines: [line(first, 0, 'living-credit', 12)],
          },
        ],
        Date.now(),
      );
      visitWith(store, ['time', 2]);
      expect(store.balancesFor(RESIDENT)).toEqual([
        { wallet: 'living-credit', amount: 18, provisional: 6 },
        { wallet: 'time', amount: 2, provisional: 2 },
      ]);
      expect(store.balancesFor(RESIDENT)).toEqual(fresh());

      // Lines written in a transaction that rolls back are not shown.
      expect(() =>
        store.db.transaction(() => {
          visitWith(store, ['living-credit', 100]);
          throw new Error('roll back');
        })(),
      ).toThrow('roll back');
      expect(store.balancesFor(RESIDENT)).toEqual(fresh());
      expect(store.balancesFor(RESIDENT)[0]?.amount).toBe(18);
      store.close();
    });
  });

  it('counts a line settled in the same millisecond as a pull began once, not twice', () => {
    withDir((dir) => {
      const store = new KioskStore(join(dir, 'k.sqlite'));
      const id = visitWith(store, ['time-credit', -30]);
      const T = 1_800_000_000_000;
      store.settle(
        [
          {
            id: id as LedgerLine['eventId'],
            seq: 1,
            status: 'accepted',
            lines: [line(id, 0, 'time-credit', -30)],
          },
        ],
        T,
      );
      // The pull begins after the settle, within the same millisecond: the pulled balance
      // includes the settled line, so it is no longer added on top.
      const pullStartedAt = store.beginPull(T);
      expect(pullStartedAt).toBeGreaterThan(T);
      store.applyPullPage(
        PullPageSchema.parse({
          protocol: 1,
          kioskId: 'k-test',
          cursor: 0,
          nextCursor: 1,
          hasMore: false,
          serverTime: T,
          cards: [],
          balances: [{ residentRef: RESIDENT, wallet: 'time-credit', amount: -30 }],
          schemes: [],
          services: [],
          venues: [],
        }),
        pullStartedAt,
      );
      expect(store.balancesFor(RESIDENT)).toEqual([
        { wallet: 'time-credit', amount: -30, provisional: 0 },
      ]);
      // A settle after that pull began, in the same millisecond again, is shown on top.
      const later = visitWith(store, ['time-credit', -5]);
      store.settle(
        [
          {
            id: later as LedgerLine['eventId'],
            seq: 2,
            status: 'accepted',
            lines: [line(later, 0, 'time-credit', -5)],
          },
        ],
        T,
      );
      expect(store.balancesFor(RESIDENT)).toEqual([
        { wallet: 'time-credit', amount: -35, provisional: 0 },
      ]);
      store.close();
      // Reopened, the times handed out go on from the last one recorded.
      const again = new KioskStore(join(dir, 'k.sqlite'));
      expect(again.beginPull(T)).toBeGreaterThan(pullStartedAt + 1);
      again.close();
    });
  });

  it('checkpoints the WAL after a run of taps, once the tap in hand is done', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstore-'));
    try {
      const store = new KioskStore(join(dir, 'k.sqlite'));
      // SQLite's own checkpoint is only a backstop, far beyond a hundred taps.
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(4000);
      for (let i = 0; i < 100; i++) visitWith(store, ['living-credit', 10]);
      type Wal = { log: number; checkpointed: number }[];
      // NOOP reports the WAL's frames and how many are copied into the database.
      const [during] = store.db.pragma('wal_checkpoint(NOOP)') as Wal;
      expect(during?.log).toBeGreaterThan(300);
      expect(during?.checkpointed).toBe(0); // nothing checkpointed during the taps
      await new Promise((resolve) => setImmediate(resolve));
      const [after] = store.db.pragma('wal_checkpoint(NOOP)') as Wal;
      expect(after?.checkpointed).toBe(after?.log);
      expect(after?.log).toBeGreaterThan(300);
      expect(store.balancesFor(RESIDENT)[0]?.amount).toBe(1000);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads its identity, venue and service once, and again after they are written', () => {
    const { store } = testKiosk();
    const id = store.identity();
    expect(id?.venueId).toBe('v-pool');
    expect(store.identity()).toBe(id); // read once
    expect(Object.isFrozen(store.getVenue('v-pool'))).toBe(true);
    expect(Object.isFrozen(store.getService('s-swim'))).toBe(true);
    expect(store.getVenue('v-nowhere')).toBeNull();
    store.setIdentity({ ...id!, serviceId: 's-gym' });
    expect(store.identity()?.serviceId).toBe('s-gym');
    store.applyPullPage(
      PullPageSchema.parse({
        protocol: 1,
        kioskId: 'k-pool-1',
        cursor: 1,
        nextCursor: 2,
        hasMore: false,
        serverTime: Date.now(),
        cards: [],
        balances: [],
        schemes: [],
        services: [{ id: 's-swim', name: 'Lane swimming', kind: 'leisure' }],
        venues: [
          {
            id: 'v-pool',
            name: 'Riverside Pool',
            allowUidOnly: false,
            services: ['s-swim', 's-gym'],
            type: 'leisure-centre',
            ward: 'central',
          },
          { id: 'v-nowhere', name: 'New Hall', allowUidOnly: true, services: [] },
        ],
      }),
      0,
    );
    expect(store.getVenue('v-pool')).toMatchObject({
      name: 'Riverside Pool',
      allowUidOnly: false,
      services: ['s-swim', 's-gym'],
    });
    expect(store.getService('s-swim')?.name).toBe('Lane swimming');
    expect(store.getVenue('v-nowhere')?.name).toBe('New Hall');
    store.close();
  });
});
