/**
 * bench:tap — tap latency through the real stack: virtual card → vpcd → pcscd →
 * nfc-pcsc → PcscCardReader → kiosk core (authenticate, resolve, rules, ONE SQLite
 * transaction, flushed to disk before the UI hears of it) → UI message. Measured from the reader's card event
 * to the UI being told; `own` subtracts the time spent inside APDU exchanges. Detection
 * latency (card in the field → card event; pcscd polls vpcd about every 400 ms) is
 * reported separately. Debian's vpcd 3.3 adds ~40 ms to every APDU through loopback
 * (Nagle + delayed ACK, see ../support/loopback-quickack.ts) that a USB reader does not
 * have: a short run shows it as shipped, then the measured run turns on quick ACKs for
 * loopback (needs root; the routes are put back after). Before the measured run, a
 * warm-up run (reported, not in the figures) lets the runtime compile the tap path, as
 * in a kiosk that has been in service for a while: the first taps after a start are
 * slower while it does. BENCH_TAPS per card kind (default 500), BENCH_RAW_TAPS for the
 * as-shipped run (default 25, 0 to skip), BENCH_WARMUP_TAPS for the warm-up (default
 * 100, 0 to skip). Then the floor under the own share through the same stack (each tap
 * answered by one durable commit and nothing else, see floorRun; BENCH_FLOOR_TAPS per card
 * kind, default 150, 0 to skip), printed beside it as a ratio. Last line: one JSON object
 * with the figures.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasync, mkdtempSync, openSync, rmSync, write } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import {
  tap,
  VirtualNtag21x,
  VirtualNtag424,
  type CardReader,
  type TapRead,
} from '@clubcard/hardware';
import type { TapTiming } from '@clubcard/terminal/core/kiosk-core';
import { hexToBytes } from '@clubcard/shared';
import { deriveIssuedCardKeys } from '@clubcard/terminal/card-auth/card-keys';
import { enableLoopbackQuickAck } from '../support/loopback-quickack.js';
import { ensurePcscd } from '../support/pcscd.js';
import { createTestSystem } from '../support/system.js';

const TAPS = Number(process.env.BENCH_TAPS ?? 500);
/** Taps per card kind first measured with vpcd as shipped, for comparison. */
const RAW_TAPS = Number(process.env.BENCH_RAW_TAPS ?? 25);
/** Taps per card kind before the measured run, unmeasured but reported. */
const WARMUP_TAPS = Number(process.env.BENCH_WARMUP_TAPS ?? 100);
/** Taps per card kind in the floor run (see floorRun), 0 to skip. */
const FLOOR_TAPS = Number(process.env.BENCH_FLOOR_TAPS ?? 150);
/** The paced durable-commit baseline: commits, one every TAP_PACE_MS (about the taps' pace). */
const IDLE_COMMITS = 100;
const TAP_PACE_MS = 800;
const READ_MASTER = randomBytes(16);
const ISSUING = {
  issuingKeyVersion: 1,
  issuingMasterKey: randomBytes(16),
  readKeyVersion: 1,
  readMasterKey: READ_MASTER,
};
const SECURE_UID = '04BE0C0000AA01';
const PLAIN_UID = '04BE0C0000AA02';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return +(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN).toFixed(2);
}

const pcscd = await ensurePcscd();
const sys = await createTestSystem();
try {
  sys.admin((admin) => {
    for (const [uid, technology] of [
      [SECURE_UID, 'ntag424'],
      [PLAIN_UID, 'ntag21x'],
    ] as const) {
      const ref = admin.addResident({ firstName: null, ageBand: '30-44', ward: 'riverside' });
      admin.issueCard({ residentRef: ref, uid, technology, keyVersion: 1 });
    }
  });
  await sys.startBackend();
  const kiosk = await sys.startKiosk(0, {
    reader: 'pcsc',
    demo: null,
    readKeys: {
      current: { version: 1, masterKeyHex: READ_MASTER.toString('hex') },
      previous: null,
    },
  });
  await kiosk.sync.syncOnce();
  await kiosk.sync.stop(); // the bench measures the tap path, not sync
  // Provisioned and pulled: the backend's own timers (nonce pruning, scheduled
  // allowances, analytics) would otherwise run in this process, between and during taps,
  // where no council's server runs.
  await sys.stopBackend();
  const reader: CardReader = kiosk.reader;
  if (reader.readers().length === 0) {
    await new Promise<void>((r) => reader.once('reader-attached', () => r()));
  }
  const k = deriveIssuedCardKeys(ISSUING, hexToBytes(SECURE_UID));
  const cards = {
    sun: VirtualNtag424.personalised({
      uid: SECURE_UID,
      keys: [k.appMaster.key, k.sdmFileRead.key, k.sdmMetaRead.key, k.spare3.key, k.spare4.key],
    }),
    uid: new VirtualNtag21x({ uid: PLAIN_UID }),
  };
  // The kiosk core works on the main thread from the tap event to the UI being told (the
  // tap's flush to disk runs meanwhile in the thread pool), so the process's CPU time
  // across it is the core's own work, which other load on the machine stretches far less
  // than wall-clock time (an fsync's wait is not CPU time).
  // Garbage collections (the kiosk collects between taps, see idle-gc.ts): which taps'
  // spans one overlapped is reported, as `gc_in_tap`.
  const collections: { start: number; end: number }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      collections.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  let emittedAt = 0;
  let emittedCpu = process.cpuUsage();
  let notifiedCpuMs = 0;
  reader.prependListener('tap', () => {
    emittedAt = performance.now();
    emittedCpu = process.cpuUsage();
  });
  kiosk.core.prependListener('tap-timing', () => {
    const c = process.cpuUsage(emittedCpu);
    notifiedCpuMs = (c.user + c.system) / 1000;
  });
  // The kiosk rehearses each tap while the card answers (kiosk-core.ts #warm): how long
  // that took, to set beside the time the card took to answer. Here the virtual card
  // answers on the same thread, so a rehearsal delays the card's answers (APDU time),
  // never the kiosk's own share; a real card answers on its own, and more slowly.
  let warmMs: number | null = null;
  kiosk.core.on('warm-timing', (w) => (warmMs = w.ms));
  /** Where one tap's own time went (ms); see stagesOf. */
  type Stages = {
    reader: number;
    handle: number;
    message: number;
    flushWait: number;
    notify: number;
  };
  /**
   * A tap's own time in stages: the reader's code between APDUs; the pipeline
   * (authenticate, decide, commit, start the flush); the screen's message; the wait for
   * the flush to disk after that; telling the UI.
   */
  const stagesOf = (t: TapTiming): Stages => {
    const s = t.stages;
    const flushed = s.durableAt ?? s.messageAt;
    return {
      reader: s.tapAt - t.detectedAt - t.apduMs,
      handle: s.handledAt - s.tapAt,
      message: s.messageAt - s.handledAt,
      flushWait: flushed - s.messageAt,
      notify: t.notifiedAt - flushed,
    };
  };
  const STAGES = ['reader', 'handle', 'message', 'flushWait', 'notify'] as const;
  const fmtStages = (x: Stages): string => STAGES.map((k) => `${k} ${x[k].toFixed(2)}`).join(' / ');
  /** Each stage's percentile over these taps, on its own. */
  const stagesPct = (xs: Stages[], p: number): Stages =>
    Object.fromEntries(
      STAGES.map((k) => [
        k,
        pct(
          xs.map((x) => x[k]),
          p,
        ),
      ]),
    ) as Stages;
  type Figures = {
    stages: Stages[];
    span: number[];
    /** [detectedAt, notifiedAt] of each measured tap. */
    windows: [number, number][];
    own: number[];
    /** Time inside APDU exchanges, and the rehearsal run during them. */
    apdu: number[];
    warm: number[];
    detect: number[];
    refused: number;
    /** Taps the reader reported as failed reads (no tap event, so no span). */
    readErrors: string[];
  };
  const measure = async (taps: number, label: string) => {
    const pipeline: number[] = [];
    const pipelineCpu: number[] = [];
    const results: Record<string, Figures> = {};
    for (const [kind, card] of Object.entries(cards)) {
      const r: Figures = {
        stages: [],
        span: [],
        windows: [],
        own: [],
        apdu: [],
        warm: [],
        detect: [],
        refused: 0,
        readErrors: [],
      };
      results[kind] = r;
      for (let i = 0; i < taps; i++) {
        const presentedAt = performance.now();
        warmMs = null;
        // A read the reader gives up on (the card unreadable under load, say) ends in an
        // error, not a tap: it is counted, and the run goes on.
        const t = await tapAndWait<TapTiming>(
          reader,
          card,
          (done) => {
            kiosk.core.once('tap-timing', done);
            return () => kiosk.core.off('tap-timing', done);
          },
          (e) => new Error(`${label} ${kind} tap ${i + 1}: ${e.message}\n${pcscd.log()}`),
        );
        if ('error' in t) {
          r.readErrors.push(t.error);
          await new Promise((res) => setTimeout(res, 450));
          continue;
        }
        if (!t.recorded) r.refused++;
        r.span.push(t.notifiedAt - t.detectedAt);
        r.windows.push([t.detectedAt, t.notifiedAt]);
        pipeline.push(t.notifiedAt - emittedAt);
        pipelineCpu.push(notifiedCpuMs);
        r.own.push(t.notifiedAt - t.detectedAt - t.apduMs);
        r.stages.push(stagesOf(t));
        r.apdu.push(t.apduMs);
        if (warmMs !== null) r.warm.push(warmMs);
        r.detect.push(t.detectedAt - presentedAt);
        // Wait for pcscd to see the card leave before the next tap.
        await new Promise((res) => setTimeout(res, 450));
        if ((i + 1) % 25 === 0 || i + 1 === taps)
          process.stderr.write(`\r${label} ${kind} taps ${i + 1}/${taps}`);
      }
      process.stderr.write('\n');
    }
    process.stderr.write(
      `${label} kiosk core (tap event → UI told): p50 ${pct(pipeline, 50)} ms, p99 ${pct(pipeline, 99)} ms; CPU time p50 ${pct(pipelineCpu, 50)} ms, p99 ${pct(pipelineCpu, 99)} ms\n`,
    );
    for (const [kind, r] of Object.entries(results)) {
      process.stderr.write(
        `${label} ${kind}: p50 ${pct(r.span, 50)} ms, p99 ${pct(r.span, 99)} ms, own p50 ${pct(r.own, 50)} ms, own p99 ${pct(r.own, 99)} ms, APDU time p50 ${pct(r.apdu, 50)} ms, rehearsal p50 ${pct(r.warm, 50)} ms p99 ${pct(r.warm, 99)} ms (${r.warm.length} taps), detect p50 ${pct(r.detect, 50)} ms, refused ${r.refused}, read errors ${r.readErrors.length}${r.readErrors.length > 0 ? ` (${[...new Set(r.readErrors)].join(', ')})` : ''}\n`,
      );
      // Where the tail lies: the slowest taps' own time, with their place in the run
      // (early ones point at warm-up, spread ones at the machine or the disk).
      const slowest = r.own
        .map((ms, i) => ({ ms, i }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, Math.max(1, Math.ceil(r.own.length / 100)) + 2);
      process.stderr.write(
        `${label} ${kind}: slowest own: ${slowest.map((x) => `#${x.i + 1} ${x.ms.toFixed(2)} ms`).join(', ')}\n`,
      );
      process.stderr.write(
        `${label} ${kind}: own time in stages (ms), p50: ${fmtStages(stagesPct(r.stages, 50))}; p99: ${fmtStages(stagesPct(r.stages, 99))}\n`,
      );
      for (const x of slowest) {
        const st = r.stages[x.i];
        if (st) process.stderr.write(`${label} ${kind}:   #${x.i + 1}: ${fmtStages(st)}\n`);
      }
    }
    return { sun: results.sun!, uid: results.uid!, core: pipeline, coreCpu: pipelineCpu };
  };

  // First, briefly, as Debian's vpcd behaves out of the box (each APDU pays a delayed
  // ACK, see loopback-quickack.ts); then the measured run with that artefact removed.
  const raw = RAW_TAPS > 0 ? await measure(RAW_TAPS, 'vpcd as shipped:') : null;
  const quick = await enableLoopbackQuickAck();
  if (!quick.enabled) {
    process.stderr.write(
      `loopback quickack not enabled (${quick.reason}); figures include vpcd's ~40 ms per APDU\n`,
    );
  }
  let measured: Awaited<ReturnType<typeof measure>>;
  let warm: Awaited<ReturnType<typeof measure>> | null = null;
  let floor: Awaited<ReturnType<typeof floorRun>> | null = null;
  try {
    // A kiosk in service has run its tap path many times; one just started has not, and
    // its first taps wait while the runtime compiles it. Shown here, not in the figures.
    if (WARMUP_TAPS > 0) warm = await measure(WARMUP_TAPS, 'warm-up (not in the figures):');
    measured = await measure(TAPS, quick.enabled ? 'quickack:' : 'as shipped:');
    // The floor under the own share, through the same reader, pcscd, vpcd and cards: each
    // tap answered by nothing but one durable one-row commit, the disk primed as the card
    // is detected, as the kiosk does. Last: the kiosk's tap listeners are taken off for it.
    floor = FLOOR_TAPS > 0 ? await floorRun(reader, cards, FLOOR_TAPS) : null;
  } finally {
    await quick.restore();
  }
  const { sun, uid, core, coreCpu } = measured;
  gcObserver.disconnect();
  if (floor !== null) {
    process.stderr.write(
      `floor (reader + one durable commit, nothing else): own p50 ${floor.p50} ms, own p99 ${floor.p99} ms over ${floor.taps} taps (read errors ${floor.readErrors})\n`,
    );
  }
  const gcInTap = [...sun.windows, ...uid.windows].filter(([from, to]) =>
    collections.some((g) => g.start < to && g.end > from),
  ).length;
  const disk = await durableCommitBaseline(200, 0);
  process.stderr.write(
    `baseline, one-row durable SQLite commit on the same disk (WAL, synchronous=FULL), back to back: p50 ${disk.p50} ms, p99 ${disk.p99} ms\n`,
  );
  // Taps come one every ~0.8 s (detection, read, the card leaving), and a commit after a
  // pause is slower than one right after another: the floor at the taps' own pace.
  const diskIdle = await durableCommitBaseline(IDLE_COMMITS, TAP_PACE_MS);
  process.stderr.write(
    `baseline, the same commit once every ${TAP_PACE_MS} ms: p50 ${diskIdle.p50} ms, p99 ${diskIdle.p99} ms\n`,
  );
  const all = [...sun.span, ...uid.span];
  const allOwn = [...sun.own, ...uid.own];
  const allDetect = [...sun.detect, ...uid.detect];
  console.log(
    JSON.stringify({
      bench: 'tap',
      taps: all.length,
      p50_ms: pct(all, 50),
      p99_ms: pct(all, 99),
      own_p50_ms: pct(allOwn, 50),
      own_p99_ms: pct(allOwn, 99),
      core_p50_ms: pct(core, 50),
      core_p99_ms: pct(core, 99),
      core_cpu_p50_ms: pct(coreCpu, 50),
      core_cpu_p99_ms: pct(coreCpu, 99),
      detect_p50_ms: pct(allDetect, 50),
      detect_p99_ms: pct(allDetect, 99),
      sun_p50_ms: pct(sun.span, 50),
      sun_p99_ms: pct(sun.span, 99),
      sun_own_p99_ms: pct(sun.own, 99),
      uid_p50_ms: pct(uid.span, 50),
      uid_p99_ms: pct(uid.span, 99),
      uid_own_p99_ms: pct(uid.own, 99),
      // The own time's stages at p99, each on its own (the slowest taps are listed above).
      stages_p99_ms: stagesPct([...sun.stages, ...uid.stages], 99),
      stages_p50_ms: stagesPct([...sun.stages, ...uid.stages], 50),
      apdu_p50_ms: pct([...sun.apdu, ...uid.apdu], 50),
      rehearsal_p50_ms: pct([...sun.warm, ...uid.warm], 50),
      rehearsal_p99_ms: pct([...sun.warm, ...uid.warm], 99),
      refused: sun.refused + uid.refused,
      gc_in_tap: gcInTap,
      read_errors: sun.readErrors.length + uid.readErrors.length,
      loopback_quickack: quick.enabled,
      durable_commit_p50_ms: disk.p50,
      durable_commit_p99_ms: disk.p99,
      durable_commit_paced_p50_ms: diskIdle.p50,
      durable_commit_paced_p99_ms: diskIdle.p99,
      floor_taps: floor?.taps ?? 0,
      floor_own_p50_ms: floor?.p50 ?? null,
      floor_own_p99_ms: floor?.p99 ?? null,
      own_p99_to_floor: floor === null ? null : +(pct(allOwn, 99) / floor.p99).toFixed(2),
      warmup_taps: warm === null ? 0 : warm.sun.span.length + warm.uid.span.length,
      warmup_own_p99_ms: warm === null ? null : pct([...warm.sun.own, ...warm.uid.own], 99),
      vpcd_as_shipped_taps: raw === null ? 0 : raw.sun.span.length + raw.uid.span.length,
      vpcd_as_shipped_sun_p50_ms: raw === null ? null : pct(raw.sun.span, 50),
      vpcd_as_shipped_uid_p50_ms: raw === null ? null : pct(raw.uid.span, 50),
      // Other work on the machine shows in p99: the 1-minute load average at the end.
      load_avg_1m: +(loadavg()[0] ?? 0).toFixed(2),
    }),
  );
} finally {
  await sys.cleanup();
  await pcscd.stop();
}

/**
 * The floor under "our own share": every recorded tap is one SQLite transaction that
 * must reach the disk (SQLite fsyncs the WAL) before the resident is answered. This
 * measures just that on the same filesystem, with nothing else in the transaction:
 * back to back (`gapMs` 0), or one commit every `gapMs`, as taps come.
 */
async function durableCommitBaseline(
  commits: number,
  gapMs: number,
): Promise<{ p50: number; p99: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'clubcard-fsync-'));
  try {
    const { db, commit: once } = probeDatabase(dir);
    const xs: number[] = [];
    for (let i = 0; i < commits; i++) {
      if (gapMs > 0) {
        await new Promise((res) => setTimeout(res, gapMs));
        if ((i + 1) % 25 === 0 || i + 1 === commits)
          process.stderr.write(`\rpaced durable commits ${i + 1}/${commits}`);
      }
      const t = performance.now();
      once('x'.repeat(300));
      xs.push(performance.now() - t);
    }
    if (gapMs > 0) process.stderr.write('\n');
    db.close();
    return { p50: pct(xs, 50), p99: pct(xs, 99) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The floor under the own share: the same reader, pcscd, vpcd and cards, and each tap
 * answered by the least a kiosk must do before it may say "recorded": one durable
 * one-row SQLite commit (WAL, synchronous=FULL), with the disk primed (a byte written
 * and flushed beside the database) when the card is detected, as the kiosk primes it.
 * Own time as for the kiosk: card event to commit done, less the time inside APDU
 * exchanges. Takes the kiosk's listeners off the reader, so it runs last.
 */
async function floorRun(
  reader: CardReader,
  cards: Record<string, Parameters<typeof tap>[0]>,
  taps: number,
): Promise<{ taps: number; p50: number; p99: number; readErrors: number }> {
  for (const e of ['tap', 'card-detected', 'card-identified'] as const)
    reader.removeAllListeners(e);
  const dir = mkdtempSync(join(tmpdir(), 'clubcard-floor-'));
  const { db, commit } = probeDatabase(dir);
  try {
    const primeFd = openSync(join(dir, 'probe.db-prime'), 'w', 0o600);
    const primeBuf = Buffer.alloc(1);
    reader.on('card-detected', () =>
      setImmediate(() => {
        primeBuf[0] = ((primeBuf[0] ?? 0) + 1) & 0xff;
        write(primeFd, primeBuf, 0, 1, 0, (err) => {
          if (!err) fdatasync(primeFd, () => undefined);
        });
      }),
    );
    const own: number[] = [];
    let readErrors = 0;
    for (const [kind, card] of Object.entries(cards)) {
      for (let i = 0; i < taps; i++) {
        const ms = await tapAndWait<number>(
          reader,
          card,
          (done) => {
            const onTap = (t: TapRead): void => {
              commit(`${t.technology}:${t.identifier}`);
              done(performance.now() - t.detectedAt - t.apduMs);
            };
            reader.once('tap', onTap);
            return () => reader.off('tap', onTap);
          },
          (e) => new Error(`floor ${kind} tap ${i + 1}: ${e.message}`),
        );
        if (typeof ms === 'number') own.push(ms);
        else readErrors++;
        await new Promise((res) => setTimeout(res, 450));
        if ((i + 1) % 25 === 0 || i + 1 === taps)
          process.stderr.write(`\rfloor ${kind} taps ${i + 1}/${taps}`);
      }
      process.stderr.write('\n');
    }
    closeSync(primeFd);
    return { taps: own.length, p50: pct(own, 50), p99: pct(own, 99), readErrors };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A database in `dir` whose every commit is durable (WAL, synchronous=FULL): one row each. */
function probeDatabase(dir: string): { db: Database.Database; commit: (body: string) => void } {
  const db = new Database(join(dir, 'probe.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE probe (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO probe (body) VALUES (?)');
  const commit = db.transaction((body: string) => void insert.run(body));
  return { db, commit };
}

/**
 * Presents `card` and waits for what `listen` reports (it subscribes, calls `done` once,
 * and returns how to unsubscribe), a read error from the reader, or 5 s with neither.
 * A card that cannot reach vpcd (pcscd gone under the run) throws `failed(error)`.
 */
async function tapAndWait<T>(
  reader: CardReader,
  card: Parameters<typeof tap>[0],
  listen: (done: (value: T) => void) => () => void,
  failed: (e: Error) => Error,
): Promise<T | { error: string }> {
  let settle: () => void = () => undefined;
  const outcome = new Promise<T | { error: string }>((res) => {
    const onError = (e: { code: string }): void => {
      settle();
      res({ error: e.code });
    };
    const unlisten = listen((value) => {
      settle();
      res(value);
    });
    settle = () => {
      unlisten();
      reader.off('error', onError);
    };
    reader.once('error', onError);
  });
  try {
    await tap(card, { until: outcome, holdMs: 5000 });
  } catch (e) {
    settle();
    throw failed(e as Error);
  }
  const result = await Promise.race([
    outcome,
    new Promise<{ error: string }>((res) => setTimeout(() => res({ error: 'no tap event' }), 5000)),
  ]);
  settle();
  return result;
}
