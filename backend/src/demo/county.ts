import { createHmac } from 'node:crypto';
import { generateSigningKeys } from '@clubcard/shared';
import { DAY_MS, HOUR_MS, dayOfWeek, londonOffsetMs } from '@clubcard/shared/rules/london-time';
import type { Db } from '../db/open.js';

/**
 * A synthetic county for demos, tests and benchmarks. Nothing here is a real person.
 *
 * What it makes (all from one seed, so the same options give the same database):
 * - wards (about one per 7,000 residents, at least 4), each with a deprivation level;
 * - venues with opening hours (hour resolution, see OPENING_HOURS): libraries,
 *   leisure centres, GP drop-ins and community centres spread over the wards, and one
 *   kiosk per venue and service;
 * - residents with an age band and a ward (no names: synthetic residents need none),
 *   one card each, and consent to health segmentation for about a third;
 * - a year of visit events (Europe/London time) whose patterns differ by age and ward:
 *   each resident follows a persona — weekday-morning library regulars (mostly 65+),
 *   after-school leisure (13–19, 0–12, lighter in school holidays), weekend families
 *   (30–44 with children), early/late gym-goers, evening community learners, occasional
 *   users, and people who never come — scaled by a personal rate; some lapse part-way
 *   through the year and some join late. GP drop-in visits come on top for everyone,
 *   more for older residents and deprived wards, peaking on Monday mornings and in winter.
 *
 * It writes straight into a migrated backend database through prepared statements, one
 * transaction per day of events, in time order (so the UUIDv7 primary key and the kiosk
 * sequences grow at the end of their indexes); the resident index on events is dropped
 * while loading and rebuilt at the end. Events are genuine VisitEvent payloads, so the
 * normal code (analytics rebuild, exports) reads them as if kiosks had pushed them. The
 * kiosks are created active with a fresh public key whose private key is not kept: they
 * stand for the kiosks that recorded the history.
 *
 * Sizes: `residents` from a few hundred (unit tests) to 850,000 (a county: about
 * 20 million events, several minutes on two cores). Events scale at about 23.5 a
 * resident a year.
 */
export interface CountyOptions {
  residents: number;
  seed?: number;
  /** First day of the year of events (ISO date, a London calendar day). */
  start?: string;
  days?: number;
  /** Key for card hashes (the backend's card-hash key), so generated cards are real. */
  cardHashKey: string;
  progress?: (phase: string, done: number, total: number) => void;
}

export interface CountyResult {
  residents: number;
  wards: number;
  venues: number;
  kiosks: number;
  events: number;
  firstDay: string;
  lastDay: string;
}

export const VENUE_TYPES = ['library', 'leisure-centre', 'gp-drop-in', 'community-centre'] as const;
type VenueType = (typeof VENUE_TYPES)[number];
const LIB = 0;
const LEI = 1;
const GPV = 2;
const COM = 3;

export const COUNTY_SERVICES: readonly { id: string; name: string; kind: string }[] = [
  { id: 's-library', name: 'Library', kind: 'library' },
  { id: 's-swim', name: 'Swimming', kind: 'leisure' },
  { id: 's-gym', name: 'Gym', kind: 'leisure' },
  { id: 's-music-tuition', name: 'Music tuition', kind: 'leisure' },
  { id: 's-gp-drop-in', name: 'GP drop-in', kind: 'gp-drop-in' },
  { id: 's-community-hub', name: 'Community hub', kind: 'community' },
  { id: 's-adult-learning', name: 'Adult learning', kind: 'learning' },
];

/** Opening hours per venue type: [day of week (Mon = 0), first hour, last hour + 1]. */
export const OPENING_HOURS: Record<VenueType, readonly (readonly [number, number, number])[]> = {
  library: [
    [0, 9, 17],
    [1, 9, 17],
    [2, 9, 17],
    [3, 9, 19],
    [4, 9, 17],
    [5, 9, 13],
  ],
  'leisure-centre': [
    [0, 6, 22],
    [1, 6, 22],
    [2, 6, 22],
    [3, 6, 22],
    [4, 6, 22],
    [5, 8, 18],
    [6, 8, 18],
  ],
  'gp-drop-in': [
    [0, 8, 18],
    [1, 8, 18],
    [2, 8, 18],
    [3, 8, 18],
    [4, 8, 18],
    [5, 9, 12],
  ],
  'community-centre': [
    [0, 9, 21],
    [1, 9, 21],
    [2, 9, 21],
    [3, 9, 21],
    [4, 9, 21],
    [5, 9, 21],
  ],
};

function openMask(t: VenueType): Uint8Array {
  const m = new Uint8Array(168);
  for (const [d, a, b] of OPENING_HOURS[t]) for (let h = a; h < b; h++) m[d * 24 + h] = 1;
  return m;
}

const AGE_BANDS = ['0-12', '13-19', '20-29', '30-44', '45-64', '65-74', '75+'] as const;
const AGE_SHARE = [0.14, 0.08, 0.13, 0.2, 0.25, 0.1, 0.1];

/** Hour-of-week weights: a list of [days, from hour, to hour (exclusive), weight]. */
type HourSpec = readonly (readonly [readonly number[], number, number, number])[];
const WEEKDAYS = [0, 1, 2, 3, 4];
const WEEKEND = [5, 6];
const ALL_DAYS = [0, 1, 2, 3, 4, 5, 6];

interface Persona {
  name: string;
  /** Visits a week at a personal rate multiplier of 1. */
  rate: number;
  /** Venue type weights [library, leisure, gp, community]. */
  venueTypes: readonly number[];
  /** Service weights per venue type (ids). */
  services: Readonly<Record<number, readonly (readonly [string, number])[]>>;
  hours: HourSpec;
  /** Rate multiplier in school holidays. */
  holiday: number;
}

const PERSONAS: readonly Persona[] = [
  {
    name: 'inactive',
    rate: 0,
    venueTypes: [1, 0, 0, 0],
    services: {},
    hours: [[ALL_DAYS, 0, 24, 1]],
    holiday: 1,
  },
  {
    name: 'library-regular',
    rate: 1.6,
    venueTypes: [0.9, 0, 0, 0.1],
    services: {
      [LIB]: [
        ['s-library', 0.9],
        ['s-adult-learning', 0.1],
      ],
      [COM]: [['s-community-hub', 1]],
    },
    hours: [
      [WEEKDAYS, 9, 12, 6],
      [WEEKDAYS, 12, 16, 1],
      [[5], 9, 13, 0.6],
    ],
    holiday: 1,
  },
  {
    name: 'after-school',
    rate: 1.4,
    venueTypes: [0.2, 0.8, 0, 0],
    services: {
      [LIB]: [['s-library', 1]],
      [LEI]: [
        ['s-swim', 0.55],
        ['s-gym', 0.3],
        ['s-music-tuition', 0.15],
      ],
    },
    hours: [
      [WEEKDAYS, 15, 18, 6],
      [WEEKDAYS, 18, 20, 1],
      [WEEKEND, 10, 16, 0.8],
    ],
    holiday: 0.45,
  },
  {
    name: 'weekend-family',
    rate: 0.9,
    venueTypes: [0.3, 0.7, 0, 0],
    services: {
      [LIB]: [['s-library', 1]],
      [LEI]: [
        ['s-swim', 0.85],
        ['s-gym', 0.15],
      ],
    },
    hours: [
      [WEEKEND, 9, 13, 6],
      [WEEKEND, 13, 17, 1.5],
      [WEEKDAYS, 16, 18, 0.4],
    ],
    holiday: 1.3,
  },
  {
    name: 'gym-commuter',
    rate: 2.2,
    venueTypes: [0, 1, 0, 0],
    services: {
      [LEI]: [
        ['s-gym', 0.85],
        ['s-swim', 0.15],
      ],
    },
    hours: [
      [WEEKDAYS, 6, 8, 5],
      [WEEKDAYS, 18, 21, 5],
      [WEEKDAYS, 12, 14, 1],
      [WEEKEND, 8, 11, 1],
    ],
    holiday: 0.9,
  },
  {
    name: 'community-learner',
    rate: 1,
    venueTypes: [0.15, 0, 0, 0.85],
    services: {
      [LIB]: [['s-adult-learning', 1]],
      [COM]: [
        ['s-adult-learning', 0.6],
        ['s-community-hub', 0.4],
      ],
    },
    hours: [
      [WEEKDAYS, 18, 21, 5],
      [WEEKDAYS, 10, 12, 1.5],
      [[5], 10, 13, 0.5],
    ],
    holiday: 0.5,
  },
  {
    name: 'occasional',
    rate: 0.07,
    venueTypes: [0.4, 0.4, 0, 0.2],
    services: {
      [LIB]: [['s-library', 1]],
      [LEI]: [
        ['s-swim', 0.6],
        ['s-gym', 0.4],
      ],
      [COM]: [['s-community-hub', 1]],
    },
    hours: [[ALL_DAYS, 0, 24, 1]],
    holiday: 1.2,
  },
];

/** Persona shares per age band, in PERSONAS order. */
const PERSONA_BY_AGE: readonly (readonly number[])[] = [
  [0.25, 0, 0.35, 0.25, 0, 0, 0.15], // 0-12
  [0.35, 0.02, 0.35, 0, 0.05, 0, 0.23], // 13-19
  [0.43, 0.01, 0, 0.02, 0.2, 0.05, 0.29], // 20-29
  [0.3, 0.01, 0, 0.25, 0.15, 0.04, 0.25], // 30-44
  [0.4, 0.1, 0, 0.02, 0.08, 0.12, 0.28], // 45-64
  [0.33, 0.3, 0, 0, 0.02, 0.12, 0.23], // 65-74
  [0.45, 0.25, 0, 0, 0, 0.05, 0.25], // 75+
];

/** GP drop-in visits a week by age band (before the ward's deprivation factor). */
const GP_RATE = [0.03, 0.02, 0.03, 0.04, 0.06, 0.1, 0.14];
const GP_HOURS: HourSpec = [
  [[0], 8, 11, 8],
  [WEEKDAYS, 8, 11, 3],
  [WEEKDAYS, 11, 18, 1],
  [[5], 9, 12, 1],
];
const GP_DOW = [2, 1, 1, 1, 0.8, 0.3, 0];

/** Overall scale so that a county averages about 23.5 events a resident a year. */
const RATE_SCALE = 0.93;

/** mulberry32 (same generator as the analytics sampling). */
function rngOf(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pickWeighted(weights: readonly number[], r: number): number {
  let total = 0;
  for (const w of weights) total += w;
  let x = r * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i] ?? 0;
    if (x < 0) return i;
  }
  return weights.length - 1;
}

const WARD_A = [
  'ash',
  'beech',
  'brook',
  'castle',
  'church',
  'elm',
  'fair',
  'green',
  'hawth',
  'holly',
  'kings',
  'lark',
  'mill',
  'north',
  'oak',
  'queens',
  'river',
  'rose',
  'south',
  'stone',
  'west',
  'wood',
];
const WARD_B = ['field', 'ford', 'gate', 'ham', 'hill', 'leigh', 'mead', 'ton', 'vale', 'wick'];

function wardName(i: number): string {
  const a = WARD_A[i % WARD_A.length] ?? 'ward';
  const b = WARD_B[Math.floor(i / WARD_A.length) % WARD_B.length] ?? '';
  const n = Math.floor(i / (WARD_A.length * WARD_B.length));
  return n === 0 ? `${a}${b}` : `${a}${b}-${n + 1}`;
}

/** Is a London day in an English school holiday (approximate, fixed dates each year)? */
function schoolHoliday(day: number): boolean {
  const d = new Date(day * DAY_MS);
  const m = d.getUTCMonth() + 1;
  const dd = d.getUTCDate();
  const md = m * 100 + dd;
  return (
    md <= 105 ||
    (md >= 217 && md <= 221) ||
    (md >= 405 && md <= 421) ||
    (md >= 526 && md <= 530) ||
    (md >= 722 && md <= 903) ||
    (md >= 1027 && md <= 1031) ||
    md >= 1220
  );
}

/** Winter pressure on GP drop-ins. */
function gpSeason(day: number): number {
  const m = new Date(day * DAY_MS).getUTCMonth() + 1;
  return m === 12 || m <= 2 ? 1.4 : m >= 6 && m <= 8 ? 0.8 : 1;
}

function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, '0');
}

/** A UUIDv7 for an instant with random bits from the seeded generator. */
function uuidv7(ms: number, rnd: () => number): string {
  const t = hex(ms, 12);
  const a = hex(Math.floor(rnd() * 4096), 3);
  const b = hex(0x8000 + Math.floor(rnd() * 0x4000), 4);
  const c = hex(Math.floor(rnd() * 2 ** 24), 6) + hex(Math.floor(rnd() * 2 ** 24), 6);
  return `${t.slice(0, 8)}-${t.slice(8)}-7${a}-${b}-${c}`;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Cumulative hour weights for one day of week under a spec, masked by opening hours. */
function hourTable(spec: HourSpec, open: Uint8Array | null): Float64Array[] {
  const out: Float64Array[] = [];
  for (let dow = 0; dow < 7; dow++) {
    const w = new Float64Array(24);
    for (const [days, a, b, weight] of spec) {
      if (!days.includes(dow)) continue;
      for (let h = a; h < b; h++) w[h] = (w[h] ?? 0) + weight;
    }
    let acc = 0;
    for (let h = 0; h < 24; h++) {
      if (open && !open[dow * 24 + h]) w[h] = 0;
      acc += w[h] ?? 0;
      w[h] = acc;
    }
    out.push(w);
  }
  return out;
}

function sampleHour(cum: Float64Array, r: number): number {
  const total = cum[23] ?? 0;
  if (total <= 0) return -1;
  const x = r * total;
  for (let h = 0; h < 24; h++) if (x < (cum[h] ?? 0)) return h;
  return 23;
}

/** UTC instant of a London wall-clock time on a London day. */
function londonToUtc(day: number, hour: number, minute: number, second: number): number {
  const wall = day * DAY_MS + hour * HOUR_MS + minute * 60_000 + second * 1000;
  return wall - londonOffsetMs(wall - londonOffsetMs(wall));
}

interface Venue {
  id: string;
  type: number;
  ward: number;
  services: string[];
  kiosk: Map<string, { id: string; seq: number }>;
}

export function generateCounty(db: Db, o: CountyOptions): CountyResult {
  const rnd = rngOf(o.seed ?? 20_250_101);
  const nRes = o.residents;
  const nWards = Math.max(4, Math.round(nRes / 7000));
  const startDay = Math.floor(Date.parse(`${o.start ?? '2025-01-01'}T00:00:00Z`) / DAY_MS);
  const days = o.days ?? 365;
  const now = (startDay + days) * DAY_MS;
  if ((db.prepare('SELECT COUNT(*) AS n FROM residents').get() as { n: number }).n > 0) {
    throw new Error('the database already has residents: generate a county into an empty database');
  }

  // ── services, wards, venues, kiosks ─────────────────────────────────────────────
  const wards = Array.from({ length: nWards }, (_, i) => ({
    name: wardName(i),
    deprivation: rnd(),
  }));
  const venues: Venue[] = [];
  const perType = [2, 3, 2, 2]; // one venue of a type per N wards
  VENUE_TYPES.forEach((type, t) => {
    const every = perType[t] ?? 2;
    for (let w = 0; w < nWards; w += every) {
      const ward = Math.min(nWards - 1, w + Math.floor(rnd() * every));
      const base =
        t === LIB
          ? ['s-library']
          : t === LEI
            ? ['s-swim', 's-gym']
            : t === GPV
              ? ['s-gp-drop-in']
              : ['s-community-hub', 's-adult-learning'];
      if (t === LIB && rnd() < 0.35) base.push('s-adult-learning');
      if (t === LEI && rnd() < 0.3) base.push('s-music-tuition');
      venues.push({
        id: `v-${wardName(ward)}-${type}`,
        type: t,
        ward,
        services: base,
        kiosk: new Map(),
      });
    }
  });
  // Venue ids must be unique even when two venues of a type share a ward.
  const seenIds = new Map<string, number>();
  for (const v of venues) {
    const n = (seenIds.get(v.id) ?? 0) + 1;
    seenIds.set(v.id, n);
    if (n > 1) v.id = `${v.id}-${n}`;
  }
  const publicKey = generateSigningKeys().publicKey;
  db.transaction(() => {
    const svc = db.prepare('INSERT INTO services (id, name, kind) VALUES (?, ?, ?)');
    for (const s of COUNTY_SERVICES) svc.run(s.id, s.name, s.kind);
    const ven = db.prepare(
      'INSERT INTO venues (id, name, type, ward, allow_uid_only) VALUES (?, ?, ?, ?, 0)',
    );
    const vs = db.prepare('INSERT INTO venue_services (venue_id, service_id) VALUES (?, ?)');
    const kio = db.prepare(
      `INSERT INTO kiosks (id, venue_id, service_id, status, public_key, registered_at, ack_seq)
       VALUES (?, ?, ?, 'active', ?, ?, 0)`,
    );
    for (const v of venues) {
      const ward = wards[v.ward]?.name ?? 'ward';
      const type = VENUE_TYPES[v.type] ?? 'library';
      const label = type.replace('-', ' ');
      ven.run(v.id, `${ward[0]?.toUpperCase() ?? ''}${ward.slice(1)} ${label}`, type, ward);
      for (const s of v.services) {
        vs.run(v.id, s);
        const kid = `k-${v.id.slice(2)}-${s.slice(2)}`.slice(0, 62);
        kio.run(kid, v.id, s, publicKey, startDay * DAY_MS);
        v.kiosk.set(s, { id: kid, seq: 0 });
      }
    }
  })();

  // Venues of each type by ward distance (wards sit on a ring: neighbours are close).
  const nearest: number[][][] = VENUE_TYPES.map((_, t) => {
    const ofType = venues.map((v, i) => ({ v, i })).filter((x) => x.v.type === t);
    return wards.map((_, w) =>
      ofType
        .map((x) => ({
          i: x.i,
          d: Math.min(Math.abs(x.v.ward - w), nWards - Math.abs(x.v.ward - w)),
        }))
        .sort((a, b) => a.d - b.d || a.i - b.i)
        .slice(0, 3)
        .map((x) => x.i),
    );
  });

  // ── residents and cards ─────────────────────────────────────────────────────────
  const refs: string[] = new Array<string>(nRes);
  const cardHashes: string[] = new Array<string>(nRes);
  const age = new Uint8Array(nRes);
  const ward = new Uint16Array(nRes);
  const persona = new Uint8Array(nRes);
  const mult = new Float32Array(nRes);
  const from = new Int32Array(nRes);
  const to = new Int32Array(nRes);
  const home = new Int32Array(nRes * 4);
  const alt = new Int32Array(nRes * 4);
  const counter = new Uint32Array(nRes);
  const refSet = new Set<string>();
  const insRes = db.prepare(
    'INSERT INTO residents (ref, first_name, age_band, ward, created_at) VALUES (?, NULL, ?, ?, ?)',
  );
  const insCard = db.prepare(
    `INSERT INTO cards (card_hash, resident_ref, status, technology, key_version, created_at, updated_at)
     VALUES (?, ?, 'active', 'ntag424', 1, ?, ?)`,
  );
  const insConsent = db.prepare(
    "INSERT INTO consents (resident_ref, purpose, granted, updated_at) VALUES (?, 'segmentation-health', 1, ?)",
  );
  const key = Buffer.from(o.cardHashKey, 'hex');
  const CH = 20_000;
  for (let lo = 0; lo < nRes; lo += CH) {
    db.transaction(() => {
      for (let i = lo; i < Math.min(nRes, lo + CH); i++) {
        let ref = '';
        do {
          ref = 'r-';
          for (let c = 0; c < 10; c++) ref += BASE32[Math.floor(rnd() * 32)];
        } while (refSet.has(ref));
        refSet.add(ref);
        refs[i] = ref;
        const a = pickWeighted(AGE_SHARE, rnd());
        const w = Math.floor(rnd() * nWards);
        age[i] = a;
        ward[i] = w;
        const dep = wards[w]?.deprivation ?? 0.5;
        const shares = [...(PERSONA_BY_AGE[a] ?? [1])];
        // Deprived wards use leisure and libraries less (cost, distance), GP more.
        for (let p = 1; p < shares.length; p++) shares[p] = (shares[p] ?? 0) * (1 - 0.35 * dep);
        shares[0] = 1 - shares.slice(1).reduce((x, y) => x + y, 0);
        const p = pickWeighted(shares, rnd());
        persona[i] = p;
        mult[i] = 0.4 + 1.2 * rnd();
        const r = rnd();
        // 15% lapse part-way, 10% join late; the rest are active all year.
        from[i] = r < 0.1 ? startDay + Math.floor(rnd() * days * 0.8) : startDay;
        to[i] = r > 0.85 ? startDay + Math.floor(30 + rnd() * days * 0.6) : startDay + days;
        for (let t = 0; t < 4; t++) {
          const near = nearest[t]?.[w] ?? [];
          home[i * 4 + t] = near[rnd() < 0.8 ? 0 : Math.min(near.length - 1, 1)] ?? -1;
          alt[i * 4 + t] = near[Math.min(near.length - 1, 1 + Math.floor(rnd() * 2))] ?? -1;
        }
        const created = (startDay - 30 - Math.floor(rnd() * 1000)) * DAY_MS;
        insRes.run(ref, AGE_BANDS[a] ?? '30-44', wards[w]?.name ?? 'ward', created);
        const uid = `04${hex(i, 8)}${hex(o.seed ?? 0, 4)}`;
        const hash = createHmac('sha256', key).update(Buffer.from(uid, 'hex')).digest('hex');
        cardHashes[i] = hash;
        insCard.run(hash, ref, created, created);
        if (rnd() < (a >= 5 ? 0.45 : 0.3)) insConsent.run(ref, created);
      }
    })();
    o.progress?.('residents', Math.min(nRes, lo + CH), nRes);
  }

  // ── visits, day by day ─────────────────────────────────────────────────────────
  // Per persona: members and cumulative personal rates, to draw the day's visitors in
  // proportion to their rate (O(visits), not O(residents × days)).
  const members: Int32Array[] = [];
  const cumRate: Float64Array[] = [];
  for (let p = 0; p < PERSONAS.length; p++) {
    const idx: number[] = [];
    for (let i = 0; i < nRes; i++) if (persona[i] === p) idx.push(i);
    const m = Int32Array.from(idx);
    const c = new Float64Array(m.length);
    let acc = 0;
    m.forEach((i, j) => {
      acc += mult[i] ?? 1;
      c[j] = acc;
    });
    members.push(m);
    cumRate.push(c);
  }
  const gpCum = new Float64Array(nRes);
  {
    let acc = 0;
    for (let i = 0; i < nRes; i++) {
      acc +=
        (GP_RATE[age[i] ?? 0] ?? 0.05) * (0.6 + 1.2 * (wards[ward[i] ?? 0]?.deprivation ?? 0.5));
      gpCum[i] = acc;
    }
  }
  const draw = (cum: Float64Array, r: number): number => {
    const x = r * (cum[cum.length - 1] ?? 0);
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cum[mid] ?? 0) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const serviceWeights = PERSONAS.map((p) =>
    VENUE_TYPES.map((_, t) => (p.services[t] ?? []).map((x) => x[1])),
  );
  const masks = VENUE_TYPES.map(openMask);
  const hoursOf = PERSONAS.map((p) => masks.map((m) => hourTable(p.hours, m)));
  const gpHours = hourTable(GP_HOURS, masks[GPV] ?? null);
  const dowWeight = PERSONAS.map((p) => {
    const t = hourTable(p.hours, null);
    const tot = t.reduce((s, d) => s + (d[23] ?? 0), 0);
    return t.map((d) => (tot > 0 ? ((d[23] ?? 0) / tot) * 7 : 0));
  });

  // Bulk load: secondary indexes on events are rebuilt once at the end (a sort) instead of
  // taking tens of millions of random inserts; commits need not wait for the disk (a
  // crash mid-generation leaves a half-made demo database, to be generated again).
  const indexes = db
    .prepare(
      "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL",
    )
    .pluck()
    .all() as string[];
  const indexNames = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL",
    )
    .pluck()
    .all() as string[];
  for (const name of indexNames) db.exec(`DROP INDEX "${name.replace(/"/g, '""')}"`);
  const sync = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('synchronous = OFF');
  const insEvent = db.prepare(
    `INSERT INTO events (id, kiosk_id, seq, type, occurred_at, received_at, resident_ref, venue_id, service_id,
       status, reject_code, payload) VALUES (?, ?, ?, 'visit', ?, ?, ?, ?, ?, 'accepted', NULL, ?)`,
  );
  let events = 0;
  const vRes: number[] = [];
  const vAt: number[] = [];
  const vVenue: number[] = [];
  const vService: string[] = [];
  const order: number[] = [];
  for (let d = 0; d < days; d++) {
    const day = startDay + d;
    const dow = dayOfWeek(day);
    const holiday = schoolHoliday(day);
    vRes.length = 0;
    vAt.length = 0;
    vVenue.length = 0;
    vService.length = 0;
    const add = (i: number, venueIdx: number, service: string, hour: number): void => {
      vRes.push(i);
      vAt.push(londonToUtc(day, hour, Math.floor(rnd() * 60), Math.floor(rnd() * 60)));
      vVenue.push(venueIdx);
      vService.push(service);
    };
    for (let p = 1; p < PERSONAS.length; p++) {
      const per = PERSONAS[p];
      const m = members[p];
      const cum = cumRate[p];
      if (!per || !m || !cum || m.length === 0) continue;
      const expected =
        (cum[cum.length - 1] ?? 0) *
        (per.rate / 7) *
        (dowWeight[p]?.[dow] ?? 1) *
        (holiday ? per.holiday : 1) *
        RATE_SCALE;
      // Poisson-ish count: the expectation rounded stochastically.
      const n = Math.floor(expected) + (rnd() < expected - Math.floor(expected) ? 1 : 0);
      for (let k = 0; k < n; k++) {
        const i = m[draw(cum, rnd())] ?? 0;
        if (day < (from[i] ?? 0) || day >= (to[i] ?? 0)) continue;
        const t = pickWeighted(per.venueTypes, rnd());
        const cumH = hoursOf[p]?.[t]?.[dow];
        if (!cumH) continue;
        const hour = sampleHour(cumH, rnd());
        if (hour < 0) continue; // venue closed at the times this persona comes today
        const venueIdx = (rnd() < 0.15 ? alt[i * 4 + t] : home[i * 4 + t]) ?? -1;
        const venue = venues[venueIdx];
        if (!venue) continue;
        const wanted = per.services[t] ?? [];
        const s = wanted[pickWeighted(serviceWeights[p]?.[t] ?? [], rnd())]?.[0];
        add(
          i,
          venueIdx,
          s && venue.services.includes(s) ? s : (venue.services[0] ?? 's-library'),
          hour,
        );
      }
    }
    // GP drop-ins for everyone, by age and deprivation, Monday mornings and winter.
    const gpExpected =
      ((((gpCum[nRes - 1] ?? 0) / 7) * (GP_DOW[dow] ?? 1) * gpSeason(day) * 7) / 6.1) * RATE_SCALE;
    const gpN = Math.floor(gpExpected) + (rnd() < gpExpected - Math.floor(gpExpected) ? 1 : 0);
    for (let k = 0; k < gpN; k++) {
      const i = draw(gpCum, rnd());
      const hour = sampleHour(gpHours[dow] ?? new Float64Array(24), rnd());
      const venueIdx = home[i * 4 + GPV] ?? -1;
      if (hour < 0 || venueIdx < 0) continue;
      add(i, venueIdx, 's-gp-drop-in', hour);
    }
    order.length = vAt.length;
    for (let j = 0; j < order.length; j++) order[j] = j;
    order.sort((a, b) => (vAt[a] ?? 0) - (vAt[b] ?? 0) || a - b);
    db.transaction(() => {
      for (const j of order) {
        const i = vRes[j] ?? 0;
        const venue = venues[vVenue[j] ?? 0];
        const service = vService[j] ?? '';
        const kiosk = venue?.kiosk.get(service);
        if (!venue || !kiosk) continue;
        kiosk.seq++;
        const at = vAt[j] ?? 0;
        const id = uuidv7(at, rnd);
        const occurred = new Date(at).toISOString();
        const ref = refs[i] ?? '';
        const c = (counter[i] = (counter[i] ?? 0) + 1);
        const payload = `{"id":"${id}","kioskId":"${kiosk.id}","seq":${kiosk.seq},"occurredAt":"${occurred}","venueId":"${venue.id}","type":"visit","cardHash":"${cardHashes[i] ?? ''}","residentRef":"${ref}","serviceId":"${service}","auth":{"method":"sun","keyVersion":1,"counter":${c}},"assisted":false}`;
        insEvent.run(
          id,
          kiosk.id,
          kiosk.seq,
          occurred,
          at + 30_000 + Math.floor(rnd() * 600_000),
          ref,
          venue.id,
          service,
          payload,
        );
        events++;
      }
    })();
    o.progress?.('events', d + 1, days);
  }
  db.transaction(() => {
    const ack = db.prepare('UPDATE kiosks SET ack_seq = ?, last_push_at = ? WHERE id = ?');
    for (const v of venues) for (const k of v.kiosk.values()) ack.run(k.seq, now, k.id);
  })();
  o.progress?.('index', 0, 1);
  for (const sql of indexes) db.exec(sql);
  db.pragma(`synchronous = ${sync}`);
  o.progress?.('index', 1, 1);
  return {
    residents: nRes,
    wards: nWards,
    venues: venues.length,
    kiosks: venues.reduce((s, v) => s + v.kiosk.size, 0),
    events,
    firstDay: new Date(startDay * DAY_MS).toISOString().slice(0, 10),
    lastDay: new Date((startDay + days - 1) * DAY_MS).toISOString().slice(0, 10),
  };
}
