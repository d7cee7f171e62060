/**
 * Rules-engine benchmark: replays one million events (default; `--events N` to change)
 * through the engine with every example scheme active, on one core, twice, and checks
 * the two replays give byte-identical ledgers and state. The floor is a pass over the
 * same encoded events that only decodes them (bytes → string → JSON.parse) and adds one counter per
 * resident. The engine pass decodes too, so the two are comparable. A second baseline, the
 * skeleton, does the least any engine must do per event (the same decode and context, the
 * resident's state, the event's calendar, one counter, one ledger line and one message)
 * and reads no scheme: its rate is the ceiling for any engine on this machine and runtime.
 *
 * The events are a year of a borough: visits at 60 kiosks, class sessions, redemptions
 * in every wallet, time-bank records and confirmations, recycling contributions,
 * top-ups, monthly youth allowances and expiry sweeps from the council scheduler. Some
 * kiosks go offline for up to three days, so their events arrive late and are
 * evaluated in their canonical place.
 *
 * The process runs with the backend's Node.js flags (BACKEND_NODE_FLAGS: a larger young
 * generation), as the npm script passes them; run without, it says so and reports the
 * figures for V8's defaults.
 *
 * Run: npm run bench:engine  (last line of output: one JSON object)
 */
import { createHash } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import {
  MAX_PUSH_EVENTS,
  MemoryEngineState,
  applyCounterWrites,
  canonicalJson,
  compileSchemes,
  counterNameId,
  evaluate,
  findCounter,
  londonTime,
  parseInstant,
  type AccountId,
  type EngineEvent,
  type EngineFlag,
  type EngineResult,
  type EventId,
  type EvaluationContext,
  type LedgerLine,
  type ResidentMessage,
  type ResidentProfile,
  type SchemeId,
  type ServiceKind,
  type VenueType,
  type WalletId,
} from '@clubcard/shared';
import { loadExampleSchemes } from '@clubcard/shared/rules/example-schemes';
import { BACKEND_NODE_FLAGS } from '@clubcard/backend/runtime-flags';

const argEvents = process.argv.indexOf('--events');
const N = argEvents > 0 ? Number.parseInt(process.argv[argEvents + 1] ?? '', 10) : 1_000_000;
const RESIDENTS = 50_000;
const WARDS = 20;
const KIOSKS = 60;
const YEAR_START = Date.parse('2025-01-01T00:00:00Z');
const YEAR_MS = 365 * 86_400_000;

// ── a deterministic borough ──────────────────────────────────────────────────────

let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4_294_967_296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

const SERVICE_KINDS: Record<string, ServiceKind> = {
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
const VENUE_SERVICES: Record<VenueType, string[]> = {
  'leisure-centre': ['s-swim', 's-gym'],
  library: ['s-library'],
  college: ['s-adult-learning', 's-music-tuition', 's-studio-hire'],
  'health-centre': ['s-gp-drop-in'],
  'community-centre': ['s-health-walk', 's-time-bank', 's-voucher-desk'],
  'recycling-centre': ['s-recycling'],
  'council-office': ['s-voucher-desk'],
};
const OUTLETS: Record<string, readonly string[]> = {
  'o-city-buses': ['transport'],
  'o-bookshop': ['learning-resources'],
  'o-work-wear': ['work-clothes'],
  'o-interview-skills': ['interview-preparation'],
  'o-housing-advice': ['accommodation'],
  'o-skills-academy': ['skills-course'],
};

const wards = Array.from({ length: WARDS }, (_, i) => `w-ward-${i}`);
const venueTypes = Object.keys(VENUE_SERVICES) as VenueType[];
const venues = Array.from({ length: 40 }, (_, i) => ({
  id: `v-venue-${i}`,
  type: venueTypes[i % venueTypes.length] as VenueType,
  ward: wards[i % WARDS] as string,
}));
const kiosks = Array.from({ length: KIOSKS }, (_, i) => {
  const venue = venues[i % venues.length] as (typeof venues)[number];
  return { id: `k-kiosk-${i}`, venue, offline: i % 10 === 3 };
});

const AGE_BANDS: ResidentProfile['ageBand'][] = [
  '0-12',
  '13-19',
  '13-19',
  '20-29',
  '30-44',
  '45-64',
  '65-74',
  '75+',
];
const residents = Array.from({ length: RESIDENTS }, (_, i) => {
  const ref = `r-${(i + 1).toString(36).padStart(8, '0')}`;
  const ageBand = pick(AGE_BANDS);
  const categories: string[] = [];
  if ((ageBand === '13-19' || ageBand === '20-29') && rnd() < 0.5)
    categories.push(rnd() < 0.7 ? 'in-education' : 'in-training');
  if (rnd() < 0.01) categories.push('prison-leaver');
  const profile: ResidentProfile = {
    ageBand,
    resident: rnd() < 0.95,
    homeWard: pick(wards),
    categories,
    consents: rnd() < 0.15 ? ['time-bank'] : [],
  };
  return { ref, profile, card: createHash('sha256').update(ref).digest('hex') };
});
const profileOf = new Map(residents.map((r) => [r.ref, r.profile]));
const youth = residents.filter((r) => r.profile.ageBand === '13-19');
const leavers = residents.filter((r) => r.profile.categories.includes('prison-leaver'));
const timeBankers = residents.filter((r) => r.profile.consents.includes('time-bank'));

// ── a year of events ─────────────────────────────────────────────────────────────

const AUTH = { method: 'sun', keyVersion: 1, counter: 0 } as const;
let nextId = 1;
function eventId(): string {
  const h = (nextId++).toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(0, 3)}-8${h.slice(3, 6)}-${h}`;
}

interface Gen {
  at: number;
  arrive: number;
  make: (seq: number) => Record<string, unknown>;
  kiosk: string;
}

const gens: Gen[] = [];
const kioskSeq = new Map<string, number>();

function tapBase(
  k: (typeof kiosks)[number],
  at: number,
  r: (typeof residents)[number],
  serviceId: string,
) {
  return {
    id: eventId(),
    kioskId: k.id,
    occurredAt: new Date(at).toISOString(),
    venueId: k.venue.id,
    cardHash: r.card,
    residentRef: r.ref,
    serviceId,
    auth: AUTH,
  };
}

function addTap(
  at: number,
  k: (typeof kiosks)[number],
  build: (seq: number) => Record<string, unknown>,
): void {
  const delay =
    k.offline && rnd() < 0.5 ? Math.floor(rnd() * 3 * 86_400_000) : Math.floor(rnd() * 60_000);
  gens.push({ at, arrive: at + delay, make: build, kiosk: k.id });
}

function redemptionFor(r: (typeof residents)[number]) {
  if (r.profile.categories.includes('prison-leaver') && rnd() < 0.7) {
    const kind = pick(['interview-preparation', 'work-clothes', 'accommodation'] as const);
    const outlet =
      kind === 'interview-preparation'
        ? 'o-interview-skills'
        : kind === 'work-clothes'
          ? 'o-work-wear'
          : 'o-housing-advice';
    return {
      wallet: 'voucher:prison-leaver-vouchers',
      schemeId: 'prison-leaver-vouchers',
      ruleId: kind,
      outletId: outlet,
      amount: 500 + Math.floor(rnd() * 4000),
      approvedBy: 'st-officer',
    };
  }
  if (r.profile.ageBand === '13-19' && rnd() < 0.6) {
    return {
      wallet: 'leisure-credit',
      schemeId: 'youth-leisure-credit',
      ruleId: 'swim',
      outletId: null,
      amount: 250,
      approvedBy: null,
    };
  }
  if (r.profile.categories.length > 0 && rnd() < 0.5) {
    return {
      wallet: 'learning-points',
      schemeId: 'learning-points',
      ruleId: 'bus-day-ticket',
      outletId: 'o-city-buses',
      amount: 150,
      approvedBy: null,
    };
  }
  if (r.profile.consents.includes('time-bank') && rnd() < 0.3) {
    return {
      wallet: 'time-credit',
      schemeId: 'time-bank',
      ruleId: 'skills-workshop',
      outletId: null,
      amount: 120,
      approvedBy: 'st-organiser',
    };
  }
  return {
    wallet: 'living-credit',
    schemeId: 'living-credits',
    ruleId: 'free-swim',
    outletId: null,
    amount: 60,
    approvedBy: null,
  };
}

// Council scheduler: youth allowances on the 1st of each month (06:00 UTC).
const council = { id: 'k-council', seq: 0 };
for (let m = 0; m < 12; m++) {
  const at = Date.UTC(2025, m, 1, 6, 0, 0);
  for (const r of youth) {
    gens.push({
      at,
      arrive: at,
      kiosk: council.id,
      make: (seq) => ({
        id: eventId(),
        kioskId: council.id,
        seq,
        occurredAt: new Date(at).toISOString(),
        type: 'allowance',
        residentRef: r.ref,
        schemeId: 'youth-leisure-credit',
        grantId: 'monthly-allowance',
      }),
    });
  }
}

const tapsWanted = N - gens.length;
if (tapsWanted < 0) throw new Error(`--events must be at least ${gens.length}`);
for (let i = 0; gens.length < N; i++) {
  const at = YEAR_START + Math.floor((i / tapsWanted) * YEAR_MS);
  const roll = rnd();
  const r = pick(residents);
  if (roll < 0.01) {
    gens.push({
      at,
      arrive: at,
      kiosk: council.id,
      make: (seq) => ({
        id: eventId(),
        kioskId: council.id,
        seq,
        occurredAt: new Date(at).toISOString(),
        type: 'expiry-sweep',
        residentRef: r.ref,
      }),
    });
    continue;
  }
  if (roll < 0.72) {
    const k = pick(kiosks);
    const serviceId = pick(VENUE_SERVICES[k.venue.type]);
    addTap(at, k, (seq) => ({
      ...tapBase(k, at, r, serviceId),
      seq,
      type: 'visit',
      assisted: false,
    }));
  } else if (roll < 0.8) {
    const k = pick(kiosks.filter((x) => x.venue.type === 'college'));
    addTap(at, k, (seq) => ({
      ...tapBase(k, at, r, 's-adult-learning'),
      seq,
      type: 'session',
      assisted: false,
      minutes: 30 + Math.floor(rnd() * 180),
    }));
  } else if (roll < 0.92) {
    const k = pick(kiosks);
    const red = redemptionFor(r);
    const serviceId =
      red.ruleId === 'swim' || red.ruleId === 'free-swim'
        ? 's-swim'
        : pick(VENUE_SERVICES[k.venue.type]);
    addTap(at, k, (seq) => ({
      ...tapBase(k, at, r, serviceId),
      seq,
      type: 'redemption',
      quantity: 1,
      offline: k.offline,
      ...red,
    }));
  } else if (roll < 0.96 && timeBankers.length > 1) {
    const giver = pick(timeBankers);
    const receiver = pick(timeBankers);
    if (giver === receiver) continue;
    const k = pick(kiosks.filter((x) => x.venue.type === 'community-centre'));
    const recordId = eventId();
    const minutes = 30 + Math.floor(rnd() * 240);
    addTap(at, k, (seq) => ({
      ...tapBase(k, at, giver, 's-time-bank'),
      id: recordId,
      seq,
      type: 'time-record',
      schemeId: 'time-bank',
      receiverRef: receiver.ref,
      minutes,
      activity: 'help at home',
    }));
    if (rnd() < 0.9) {
      const k2 = pick(kiosks.filter((x) => x.venue.type === 'community-centre'));
      const at2 = at + Math.floor(rnd() * 5 * 86_400_000);
      const byReceiver = rnd() < 0.8;
      addTap(at2, k2, (seq) => ({
        ...tapBase(k2, at2, byReceiver ? receiver : giver, 's-time-bank'),
        seq,
        type: 'time-confirm',
        schemeId: 'time-bank',
        recordId,
        giverRef: giver.ref,
        receiverRef: receiver.ref,
        confirmedBy: byReceiver ? 'receiver' : 'organiser',
        staffRef: byReceiver ? null : 'st-organiser',
      }));
    }
  } else if (roll < 0.985) {
    const k = pick(kiosks.filter((x) => x.venue.type === 'recycling-centre'));
    addTap(at, k, (seq) => ({
      ...tapBase(k, at, r, 's-recycling'),
      seq,
      type: 'ward-contribution',
      wardId: r.profile.homeWard,
      measure: 'recycling-kg',
      quantity: 1 + Math.floor(rnd() * 20),
    }));
  } else if (leavers.length > 0) {
    const k = pick(kiosks.filter((x) => x.venue.type === 'council-office'));
    const leaver = pick(leavers);
    addTap(at, k, (seq) => ({
      ...tapBase(k, at, leaver, 's-voucher-desk'),
      seq,
      type: 'grant',
      schemeId: 'prison-leaver-vouchers',
      grantId: 'release-grant',
      amount: 5000 + Math.floor(rnd() * 20000),
      approvedBy: 'st-officer',
    }));
  }
}
gens.length = Math.min(gens.length, N);

// Per-kiosk sequences follow the kiosk's own clock; arrival follows push time.
gens.sort((a, b) => a.at - b.at);
const built = gens.map((g) => {
  const seq = (kioskSeq.get(g.kiosk) ?? 0) + 1;
  kioskSeq.set(g.kiosk, seq);
  return { arrive: g.arrive, json: JSON.stringify(g.make(seq)) };
});
built.sort((a, b) => a.arrive - b.arrive);
// The events as stored: one buffer of JSON texts and their offsets (as a backend reads
// them from its event log), not a million separate strings on the heap.
const COUNT = built.length;
const offsets = new Float64Array(COUNT + 1);
let totalBytes = 0;
built.forEach((b, i) => {
  offsets[i] = totalBytes;
  totalBytes += Buffer.byteLength(b.json);
});
offsets[COUNT] = totalBytes;
const store = Buffer.alloc(totalBytes);
built.forEach((b, i) => store.write(b.json, offsets[i] as number));
const decode = (i: number): string =>
  store.toString('utf8', offsets[i] as number, offsets[i + 1] as number);
built.length = 0;
gens.length = 0;

// ── the context the backend's ingestion would build from its tables ──────────────

const serviceCtx = new Map(Object.entries(SERVICE_KINDS).map(([id, kind]) => [id, { id, kind }]));
const venueCtx = new Map(venues.map((v) => [v.id, { id: v.id, type: v.type, ward: v.ward }]));
const outletCtx = new Map(
  Object.entries(OUTLETS).map(([id, categories]) => [id, { id, categories }]),
);

function contextOf(e: EngineEvent): EvaluationContext {
  const profile = profileOf.get(e.residentRef) ?? null;
  if (e.type === 'allowance' || e.type === 'expiry-sweep') return { profile };
  const ctx: EvaluationContext = {
    service: serviceCtx.get(e.serviceId) ?? null,
    venue: venueCtx.get(e.venueId) ?? null,
    outlet:
      e.type === 'redemption' && e.outletId !== null ? (outletCtx.get(e.outletId) ?? null) : null,
    profile,
  };
  if (e.type === 'time-confirm' || e.type === 'time-record') {
    // A Map, as the backend's ContextBuilder makes: resident refs as object keys would
    // give the runtime a new object shape per resident.
    const profiles = new Map<string, ResidentProfile>();
    const others = e.type === 'time-confirm' ? [e.giverRef, e.receiverRef] : [e.receiverRef];
    for (const ref of others) {
      const p = profileOf.get(ref);
      if (p) profiles.set(ref, p);
    }
    ctx.profiles = profiles;
  }
  return ctx;
}

// ── the passes ──────────────────────────────────────────────────────────────────

// Garbage collections (start, duration): each replay reports the pauses that fell in it,
// a share of its time the floor's pass barely pays.
const collections: { start: number; ms: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) collections.push({ start: e.startTime, ms: e.duration });
});
gcObserver.observe({ entryTypes: ['gc'] });
/** Collections' count and pause in [from, to] (entries arrive a tick late: await first). */
async function pausesIn(from: number, to: number): Promise<{ count: number; ms: number }> {
  await new Promise((r) => setTimeout(r, 10));
  let count = 0;
  let ms = 0;
  for (const g of collections) {
    if (g.start < from || g.start > to) continue;
    count++;
    ms += g.ms;
  }
  return { count, ms };
}

const schemes = loadExampleSchemes();
const compiled = compileSchemes(schemes);

function floorPass(): number {
  const counts = new Map<string, number>();
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const e = JSON.parse(decode(i)) as { residentRef: string };
    counts.set(e.residentRef, (counts.get(e.residentRef) ?? 0) + 1);
  }
  const ms = performance.now() - t0;
  if (counts.size === 0) throw new Error('no events');
  return ms;
}

/**
 * The least any engine must do per event, as a second baseline beside the floor: the
 * same decode and context, then find the resident's state (made on first sight), read the
 * event's instant and London calendar, add one to one counter through a delta, and give
 * one ledger line and one message, with the bench's same bookkeeping of lines and
 * messages. No scheme is read. What the real engine takes beyond this is the rules' own
 * work; this pass's rate is the ceiling any engine reaches on this machine and runtime.
 */
function skeletonPass(): number {
  const states = new Map<string, { clock: number; counters: number[] }>();
  const name = counterNameId('skeleton/visit|n');
  const messages = new Map<string, number>();
  let chunk: LedgerLine[] = [];
  let lines = 0;
  const step = (e: EngineEvent, ctx: EvaluationContext): EngineResult => {
    let s = states.get(e.residentRef);
    if (s === undefined) states.set(e.residentRef, (s = { clock: 0, counters: [] }));
    const cal = londonTime(parseInstant(e.occurredAt));
    if (cal.utcMs > s.clock) s.clock = cal.utcMs;
    const i = findCounter(s.counters, cal.monthCode, name);
    const writes = [cal.monthCode, name, (i >= 0 ? (s.counters[i + 2] as number) : 0) + 1];
    applyCounterWrites(s.counters, writes);
    const amount = ctx.profile === null ? 0 : 10;
    const line: LedgerLine = {
      eventId: e.id as EventId,
      index: 0,
      schemeId: 'skeleton' as SchemeId,
      schemeVersion: 1,
      ruleId: 'visit',
      wallet: 'living-credit' as WalletId,
      from: 'scheme:skeleton' as AccountId,
      to: `resident:${e.residentRef}` as AccountId,
      amount,
    };
    const message: ResidentMessage = {
      code: 'earned',
      residentRef: e.residentRef,
      wallet: 'living-credit',
      amount,
      schemeId: 'skeleton',
      ruleId: 'visit',
    };
    return { lines: [line], messages: [message], flags: [], stateDelta: NO_DELTA };
  };
  let ms = 0;
  for (let i = 0; i < COUNT;) {
    const end = Math.min(i + MAX_PUSH_EVENTS, COUNT);
    const t0 = performance.now();
    for (; i < end; i++) {
      const e = JSON.parse(decode(i)) as EngineEvent;
      const r = step(e, contextOf(e));
      const ls = r.lines;
      for (let j = 0; j < ls.length; j++) chunk.push(ls[j] as LedgerLine);
      const msgs = r.messages;
      for (let j = 0; j < msgs.length; j++) {
        const code = (msgs[j] as ResidentMessage).code;
        messages.set(code, (messages.get(code) ?? 0) + 1);
      }
    }
    ms += performance.now() - t0;
    lines += chunk.length;
    chunk = [];
  }
  if (lines !== COUNT || states.size === 0) throw new Error('skeleton pass lost events');
  return ms;
}
const NO_DELTA = { residents: [], schemes: [], wards: [] };

interface EngineRun {
  ms: number;
  /** The replay's wall-clock span (timed sections and the ledger hashing between them). */
  window: [number, number];
  cpuMs: number;
  lines: number;
  ledgerHash: string;
  stateHash: string;
  late: number;
  flags: Record<string, number>;
  messages: Record<string, number>;
}

/**
 * One replay. Lines are handed over per sync batch (MAX_PUSH_EVENTS events), as the
 * backend writes them out; hashing them (for the byte-identity check) happens outside
 * the timed sections.
 */
function enginePass(): EngineRun {
  const state = new MemoryEngineState();
  const ledger = createHash('sha256');
  const flags = new Map<string, number>();
  const messages = new Map<string, number>();
  const CHUNK = MAX_PUSH_EVENTS; // one sync batch
  let chunk: LedgerLine[] = [];
  let lines = 0;
  let ms = 0;
  let cpuMs = 0;
  const started = performance.now();
  for (let i = 0; i < COUNT;) {
    const end = Math.min(i + CHUNK, COUNT);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (; i < end; i++) {
      const e = JSON.parse(decode(i)) as EngineEvent;
      const r = evaluate(state, e, contextOf(e), compiled);
      state.apply(r.stateDelta);
      // Indexed loops: this bookkeeping is the bench's, and iterators would allocate.
      const ls = r.lines;
      for (let j = 0; j < ls.length; j++) chunk.push(ls[j] as LedgerLine);
      const fs = r.flags;
      for (let j = 0; j < fs.length; j++) {
        const code = (fs[j] as EngineFlag).code;
        flags.set(code, (flags.get(code) ?? 0) + 1);
      }
      const msgs = r.messages;
      for (let j = 0; j < msgs.length; j++) {
        const code = (msgs[j] as ResidentMessage).code;
        messages.set(code, (messages.get(code) ?? 0) + 1);
      }
    }
    ms += performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuMs += cpu.user / 1000;
    for (const l of chunk) ledger.update(JSON.stringify(l)).update('\n');
    lines += chunk.length;
    chunk = [];
  }
  const ended = performance.now();
  const stateHash = createHash('sha256').update(canonicalJson(state.snapshot())).digest('hex');
  return {
    ms,
    window: [started, ended],
    cpuMs,
    lines,
    ledgerHash: ledger.digest('hex'),
    stateHash,
    late: flags.get('late') ?? 0,
    flags: Object.fromEntries(flags),
    messages: Object.fromEntries(messages),
  };
}

const nodeFlags = BACKEND_NODE_FLAGS.filter((f) => process.execArgv.includes(f));
if (nodeFlags.length < BACKEND_NODE_FLAGS.length) {
  console.log(
    `note: run without the backend's Node.js flags (${BACKEND_NODE_FLAGS.join(' ')}): the figures are for V8's defaults`,
  );
}
console.log(
  `engine bench: ${COUNT} events, ${RESIDENTS} residents, ${KIOSKS} kiosks, ${schemes.length} scheme versions, node ${process.version}`,
);
const floorMs = Math.min(floorPass(), floorPass());
console.log(`floor (decode + one counter per resident): ${(floorMs / 1000).toFixed(2)} s`);
// Before the replays, as the floor: its few small states leave the heap as it found it.
const skeletonMs = skeletonPass();
console.log(
  `skeleton (decode, context, resident lookup, calendar, one counter, one line and one message): ${(skeletonMs / 1000).toFixed(2)} s`,
);
const a = enginePass();
console.log(
  `engine replay 1: ${(a.ms / 1000).toFixed(2)} s (cpu ${(a.cpuMs / 1000).toFixed(2)} s), ${a.lines} ledger lines, ledger ${a.ledgerHash.slice(0, 16)}…, state ${a.stateHash.slice(0, 16)}…`,
);
const b = enginePass();
console.log(
  `engine replay 2: ${(b.ms / 1000).toFixed(2)} s (cpu ${(b.cpuMs / 1000).toFixed(2)} s), ${b.lines} ledger lines, ledger ${b.ledgerHash.slice(0, 16)}…, state ${b.stateHash.slice(0, 16)}…`,
);
const gcA = await pausesIn(...a.window);
const gcB = await pausesIn(...b.window);
gcObserver.disconnect();
console.log(
  `garbage collection in replay 1: ${gcA.count} pauses, ${(gcA.ms / 1000).toFixed(2)} s of ${((a.window[1] - a.window[0]) / 1000).toFixed(2)} s; replay 2: ${gcB.count} pauses, ${(gcB.ms / 1000).toFixed(2)} s of ${((b.window[1] - b.window[0]) / 1000).toFixed(2)} s`,
);
console.log(`flags: ${JSON.stringify(a.flags)}`);
console.log(`messages: ${JSON.stringify(a.messages)}`);

const perS = (ms: number) => Math.round((COUNT / ms) * 1000);
const engineMs = (a.ms + b.ms) / 2;
console.log(
  JSON.stringify({
    bench: 'engine',
    events: COUNT,
    events_per_s: perS(engineMs),
    floor_events_per_s: perS(floorMs),
    // The least any engine does per event (skeletonPass): the ceiling on this machine.
    skeleton_events_per_s: perS(skeletonMs),
    // The engine's rate as a share of each baseline's, measured in this same run.
    engine_to_floor: +(floorMs / engineMs).toFixed(3),
    engine_to_skeleton: +(skeletonMs / engineMs).toFixed(3),
    identical: a.ledgerHash === b.ledgerHash && a.stateHash === b.stateHash && a.lines === b.lines,
    runs_events_per_s: [perS(a.ms), perS(b.ms)],
    cpu_events_per_s: perS((a.cpuMs + b.cpuMs) / 2),
    // Share of the replays' wall-clock time spent in garbage-collection pauses.
    gc_pause_share: +(
      (gcA.ms + gcB.ms) /
      (a.window[1] - a.window[0] + b.window[1] - b.window[0])
    ).toFixed(3),
    gc_pauses: gcA.count + gcB.count,
    ledger_lines: a.lines,
    late_events: a.late,
    residents: RESIDENTS,
    scheme_versions: schemes.length,
    node: process.version,
    node_flags: nodeFlags,
  }),
);
