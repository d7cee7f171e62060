import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  AppError,
  MAX_OFFERS_PER_RESIDENT,
  ServiceIdSchema,
  type SyncedOffer,
  type SyncedOfferResident,
} from '@clubcard/shared';
import { londonDay, weekOfDay } from '@clubcard/shared/rules/london-time';
import type { Db } from '../db/open.js';
import { AnalyticsDb } from '../analytics/analytics-db.js';
import { dayOfIsoDate, isoDateOfDay } from '../analytics/london-slots.js';
import { USAGE_INTS } from '../analytics/model.js';
import { DEFAULT_K, checkK, isSmall } from '../analytics/privacy.js';
import { RFM_SEGMENT_NAMES } from '../analytics/rfm.js';
import { latestModel } from '../analytics/segmentation.js';
import { WeekRangeMasks } from '../analytics/usage-cube.js';

const TextSchema = z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters');
const BilingualSchema = z.object({ en: TextSchema, cy: TextSchema }).strict();
const IsoDateSchema = z.iso.date('a date like 2026-03-01');

/** A segment an offer can target: an RFM segment by its slug, or a behavioural cluster. */
export const SegmentIdSchema = z
  .string()
  .regex(
    /^(rfm:[a-z0-9-]{1,40}|cluster:[0-9]{1,3})$/,
    'segment id looks like rfm:<segment> or cluster:<n>',
  );

export const NewOfferSchema = z
  .object({
    title: BilingualSchema,
    detail: BilingualSchema.nullable().optional(),
    segmentId: SegmentIdSchema,
    serviceId: ServiceIdSchema.nullable().optional(),
    startsOn: IsoDateSchema,
    endsOn: IsoDateSchema.nullable().optional(),
  })
  .strict()
  .refine((o) => o.endsOn === undefined || o.endsOn === null || o.endsOn >= o.startsOn, {
    path: ['endsOn'],
    message: 'the offer cannot end before it starts',
  });
export type NewOffer = z.input<typeof NewOfferSchema>;

export const OfferIdParamSchema = z.string().regex(/^of-[a-z0-9]{1,60}$/, 'no such offer');

/** An offer as analysts see it, with its k-anonymised take-up. */
export interface OfferSummary {
  id: string;
  title: string;
  segmentId: string;
  segmentLabel: string;
  service: string | null;
  startsOn: string;
  endsOn: string | null;
  status: 'active' | 'retired';
  /** Residents targeted (null when fewer than k). */
  targeted: number | null;
  /** Targeted residents who visited the service (any, if none) between start and end. */
  tookUp: number | null;
}

interface OfferRow {
  id: string;
  title_en: string;
  title_cy: string;
  detail_en: string | null;
  detail_cy: string | null;
  segment_id: string;
  segment_label: string;
  service_id: string | null;
  starts_on: string;
  ends_on: string | null;
  status: 'active' | 'retired';
}

function sameTargets(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The slug of an RFM segment name, as used in segment ids ("At risk" → at-risk). */
export function rfmSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * Targeted offers (migration 009). An analyst targets one published segment; the
 * residents it targets are fixed then (analytics ids only), and a segment smaller than k
 * cannot be targeted, so that an offer never singles anyone out. Kiosks are told through
 * the change feed: kind 'offer' (the offer itself) and 'offer-resident' (which offers
 * target a resident; sent only to kiosks whose venue has seen them).
 */
export class OfferService {
  #adb: AnalyticsDb | null = null;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
    private readonly k = DEFAULT_K,
  ) {
    checkK(k);
  }

  #analytics(): AnalyticsDb {
    return (this.#adb ??= new AnalyticsDb(this.db));
  }

  /** Today's London date. */
  today(): string {
    return isoDateOfDay(londonDay(this.now()));
  }

  /** The segments an offer may target now: their ids, labels and whether they are big enough. */
  segments(): { segmentId: string; label: string; targetable: boolean }[] {
    const model = latestModel(this.#analytics());
    if (!model) return [];
    const count = (col: 'rfm_segment' | 'cluster', v: string | number): number =>
      (
        this.db.prepare(`SELECT COUNT(*) AS n FROM analytics_segments WHERE ${col} = ?`).get(v) as {
          n: number;
        }
      ).n;
    return [
      ...RFM_SEGMENT_NAMES.map((name) => ({
        segmentId: `rfm:${rfmSlug(name)}`,
        label: name,
        targetable: count('rfm_segment', name) >= this.k,
      })),
      ...model.descriptions.map((label, i) => ({
        segmentId: `cluster:${i}`,
        label,
        targetable: count('cluster', i) >= this.k,
      })),
    ];
  }

  /** The segment's label and its residents' analytics ids, from the latest published run. */
  #members(segmentId: string): { label: string; ids: number[] } {
    const model = latestModel(this.#analytics());
    if (!model) {
      throw new AppError('not-found', 'no segments are published yet: run the segmentation first');
    }
    const [kind, key = ''] = segmentId.split(':');
    let label: string | undefined;
    let rows: { id: number }[];
    if (kind === 'rfm') {
      label = RFM_SEGMENT_NAMES.find((n) => rfmSlug(n) === key);
      rows = label
        ? (this.db
            .prepare('SELECT resident_id AS id FROM analytics_segments WHERE rfm_segment = ?')
            .all(label) as { id: number }[])
        : [];
    } else {
      const n = Number(key);
      label = n < model.k ? model.descriptions[n] : undefined;
      rows = label
        ? (this.db
            .prepare('SELECT resident_id AS id FROM analytics_segments WHERE cluster = ?')
            .all(n) as { id: number }[])
        : [];
    }
    if (label === undefined) throw new AppError('not-found', `no segment ${segmentId}`);
    return { label, ids: rows.map((r) => r.id) };
  }

  create(input: unknown, createdBy: string): OfferSummary {
    const o = NewOfferSchema.parse(input);
    const serviceId = o.serviceId ?? null;
    if (
      serviceId !== null &&
      !this.db.prepare('SELECT 1 FROM services WHERE id = ?').get(serviceId)
    ) {
      throw new AppError('unknown-service', `no service ${serviceId}`);
    }
    const id = `of-${randomBytes(6).toString('hex')}`;
    const now = this.now();
    this.db.transaction(() => {
      const { label, ids } = this.#members(o.segmentId);
      if (ids.length < this.k) {
        throw new AppError(
          'bad-request',
          `segment ${o.segmentId} has fewer than ${this.k} residents: an offer must target at least ${this.k}`,
        );
      }
      this.db
        .prepare(
          `INSERT INTO offers (id, title_en, title_cy, detail_en, detail_cy, segment_id, segment_label,
             service_id, starts_on, ends_on, status, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`,
        )
        .run(
          id,
          o.title.en,
          o.title.cy,
          o.detail?.en ?? null,
          o.detail?.cy ?? null,
          o.segmentId,
          label,
          serviceId,
          o.startsOn,
          o.endsOn ?? null,
          createdBy,
          now,
        );
      const target = this.db.prepare(
        'INSERT INTO offer_targets (offer_id, resident_id) VALUES (?, ?)',
      );
      for (const rid of ids) target.run(id, rid);
      this.#announce(id, now);
    })();
    return this.#one(id);
  }

  /** Retires an offer: kiosks stop showing it at their next sync. Retiring twice is a no-op. */
  retire(id: string): OfferSummary {
    const offerId = OfferIdParamSchema.parse(id);
    const now = this.now();
    this.db.transaction(() => {
      const row = this.#row(offerId);
      if (row.status === 'retired') return;
      this.db
        .prepare("UPDATE offers SET status = 'retired', retired_at = ? WHERE id = ?")
        .run(now, offerId);
      this.#announce(offerId, now);
    })();
    return this.#one(offerId);
  }

  /** Every offer, newest first, with take-up. */
  list(): { offers: OfferSummary[] } {
    return { offers: this.#summaries() };
  }

  /** One offer as `list` shows it (the same suppression decisions). */
  #one(id: string): OfferSummary {
    const o = this.#summaries().find((x) => x.id === id);
    if (!o) throw new AppError('not-found', `no offer ${id}`);
    return o;
  }

  #row(id: string): OfferRow {
    const r = this.db.prepare('SELECT * FROM offers WHERE id = ?').get(id) as OfferRow | undefined;
    if (!r) throw new AppError('not-found', `no offer ${id}`);
    return r;
  }

  /** Change feed entries: the offer, and each targeted resident's offer list. */
  #announce(id: string, now: number): void {
    this.db
      .prepare("INSERT INTO changes (kind, key, created_at) VALUES ('offer', ?, ?)")
      .run(id, now);
    this.db
      .prepare(
        `INSERT INTO changes (kind, key, created_at)
         SELECT 'offer-resident', a.resident_ref, ? FROM offer_targets t
         JOIN analytics_residents a ON a.id = t.resident_id WHERE t.offer_id = ?
         ORDER BY a.resident_ref`,
      )
      .run(now, id);
  }

  /**
   * Which targeted residents took an offer up, from their feature rows: a resident did if
   * a usage entry (of the offer's service, or any) was active in a London week
   * overlapping the offer's dates (the rollups' resolution is the week). Targets come in
   * ascending analytics id order; nothing here leaves this class but counts.
   */
  #takeUp(r: OfferRow): { targets: Int32Array; took: Uint8Array } {
    // Targets never change and take-up reads only usage rings, which change only with
    // the usage version (each ingested batch, each rebuild): kept until either moves.
    const key = `${this.#analytics().meta('usage_version') ?? 0}|${londonDay(this.now())}`;
    const hit = this.#takeUps.get(r.id);
    if (hit?.key === key) return hit.fact;
    const fact = this.#computeTakeUp(r);
    this.#takeUps.set(r.id, { key, fact });
    return fact;
  }

  readonly #takeUps = new Map<
    string,
    { key: string; fact: { targets: Int32Array; took: Uint8Array } }
  >();

  #computeTakeUp(r: OfferRow): { targets: Int32Array; took: Uint8Array } {
    const adb = this.#analytics();
    const rows = this.db
      .prepare(
        `SELECT t.resident_id, a.usage FROM offer_targets t
         LEFT JOIN analytics_residents a ON a.id = t.resident_id
         WHERE t.offer_id = ? ORDER BY t.resident_id`,
      )
      .raw(true)
      .all(r.id) as [number, Buffer | null][];
    const targets = Int32Array.from(rows, (x) => x[0]);
    const took = new Uint8Array(rows.length);
    const today = londonDay(this.now());
    const start = dayOfIsoDate(r.starts_on);
    const end = Math.min(r.ends_on === null ? today : dayOfIsoDate(r.ends_on), today);
    const service = r.service_id === null ? -1 : (adb.findCode('service', r.service_id) ?? -2);
    if (start > end || service === -2) return { targets, took };
    const masks = new WeekRangeMasks(weekOfDay(start), weekOfDay(end));
    // Usage blobs are read in place (offers target whole segments: tens of thousands).
    const E = USAGE_INTS * 4;
    rows.forEach(([, blob], i) => {
      if (!blob) return;
      const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
      for (let o = 0; o + E <= blob.byteLength; o += E) {
        if (service !== -1 && view.getInt32(o + 4, true) !== service) continue;
        const top = view.getInt32(o + 16, true);
        if (masks.active(top, view.getInt32(o + 20, true), view.getInt32(o + 24, true))) {
          took[i] = 1;
          return;
        }
      }
    });
    return { targets, took };
  }

  /**
   * Every offer's targeted and took-up counts, k-anonymised: a count of 1..k−1
   * residents is withheld (null), and so is a take-up whose complement (targeted − took
   * up) is 1..k−1. Offers that target the same residents (made from the same segment
   * run) are answers to one question with another service or dates, so their difference
   * must not single anyone out either: if the residents who took up one but not the
   * other number 1..k−1 (either way round), both take-ups are withheld.
   */
  #summaries(): OfferSummary[] {
    const rows = this.db
      .prepare('SELECT * FROM offers ORDER BY created_at DESC, id')
      .all() as OfferRow[];
    const facts = rows.map((r) => this.#takeUp(r));
    const counts = facts.map((f) => f.took.reduce((n, x) => n + x, 0));
    const hideTake = facts.map(
      (f, i) =>
        isSmall(f.targets.length, this.k) ||
        isSmall(counts[i] ?? 0, this.k) ||
        isSmall(f.targets.length - (counts[i] ?? 0), this.k),
    );
    const groups = new Map<string, number[]>();
    facts.forEach((f, i) => {
      const key = `${f.targets.length}:${f.targets[0] ?? 0}:${f.targets.reduce((h, id) => (h * 31 + id) | 0, 7)}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    for (const members of groups.values()) {
      for (const [x, i] of members.entries()) {
        for (const j of members.slice(x + 1)) {
          const fi = facts[i];
          const fj = facts[j];
          if (!fi || !fj || !sameTargets(fi.targets, fj.targets)) continue;
          let onlyI = 0;
          let onlyJ = 0;
          for (let t = 0; t < fi.took.length; t++) {
            if (fi.took[t] && !fj.took[t]) onlyI++;
            if (fj.took[t] && !fi.took[t]) onlyJ++;
          }
          if (isSmall(onlyI, this.k) || isSmall(onlyJ, this.k)) {
            hideTake[i] = true;
            hideTake[j] = true;
          }
        }
      }
    }
    return rows.map((r, i) => {
      const targeted = facts[i]?.targets.length ?? 0;
      return {
        id: r.id,
        title: r.title_en,
        segmentId: r.segment_id,
        segmentLabel: r.segment_label,
        service: r.service_id,
        startsOn: r.starts_on,
        endsOn: r.ends_on,
        status: r.status,
        targeted: isSmall(targeted, this.k) ? null : targeted,
        tookUp: hideTake[i] ? null : (counts[i] ?? 0),
      };
    });
  }

  // ── for the pull ──────────────────────────────────────────────────────────────

  /** An offer as kiosks hold it. */
  synced(id: string): SyncedOffer | null {
    const r = this.db.prepare('SELECT * FROM offers WHERE id = ?').get(id) as OfferRow | undefined;
    if (!r) return null;
    return {
      id: r.id as SyncedOffer['id'],
      title: { en: r.title_en, cy: r.title_cy },
      detail:
        r.detail_en !== null && r.detail_cy !== null ? { en: r.detail_en, cy: r.detail_cy } : null,
      serviceId: r.service_id as SyncedOffer['serviceId'],
      startsOn: r.starts_on,
      endsOn: r.ends_on,
      status: r.status,
    };
  }

  /** Active, not yet ended offers that target a resident (newest start first). */
  offersOf(residentRef: string): SyncedOfferResident {
    const rows = this.db
      .prepare(
        `SELECT o.id FROM analytics_residents a JOIN offer_targets t ON t.resident_id = a.id
         JOIN offers o ON o.id = t.offer_id
         WHERE a.resident_ref = ? AND o.status = 'active' AND (o.ends_on IS NULL OR o.ends_on >= ?)
         ORDER BY o.starts_on DESC, o.id LIMIT ?`,
      )
      .all(residentRef, this.today(), MAX_OFFERS_PER_RESIDENT) as { id: string }[];
    return {
      residentRef: residentRef as SyncedOfferResident['residentRef'],
      offerIds: rows.map((r) => r.id as SyncedOfferResident['offerIds'][number]),
    };
  }
}
