import {
  AppError,
  ConsentPurposeSchema,
  VolunteeredAttributeSchema,
  type ConsentEvent,
  type ConsentPurpose,
  type VolunteeredAttribute,
} from '@clubcard/shared';
import type { Db } from '../db/open.js';
import { AnalyticsDb, HEALTH_SEGMENTATION } from '../analytics/analytics-db.js';
import { updateSegments } from '../analytics/segmentation.js';

export const PURPOSES: readonly ConsentPurpose[] = ConsentPurposeSchema.options;
export const ATTRIBUTES: readonly VolunteeredAttribute[] = VolunteeredAttributeSchema.options;

/** What a resident has agreed to and told the council, as they (and only they) see it. */
export interface ResidentConsents {
  consents: { purpose: ConsentPurpose; given: boolean; updatedAt: number | null }[];
  attributes: VolunteeredAttribute[];
}

/**
 * Residents' consents per purpose and their volunteered attributes (migrations 003 and
 * 009). Every change carries the time it was made and the newest statement wins, so a
 * kiosk reporting a desk conversation late never overrides what the resident said since.
 *
 * Effects are immediate: withdrawing 'segmentation-health' re-scores the resident's
 * published segment without their GP drop-in visits at once; attribute filters read
 * consents at query time.
 */
export class ConsentService {
  #adb: AnalyticsDb | null = null;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  #analytics(): AnalyticsDb {
    return (this.#adb ??= new AnalyticsDb(this.db));
  }

  residentExists(ref: string): boolean {
    return this.db.prepare('SELECT 1 FROM residents WHERE ref = ?').get(ref) !== undefined;
  }

  #requireResident(ref: string): void {
    if (!this.residentExists(ref)) throw new AppError('not-found', 'no such resident');
  }

  /** A resident's own consents (every purpose; never granted = not given) and attributes. */
  of(ref: string): ResidentConsents {
    this.#requireResident(ref);
    const rows = new Map(
      (
        this.db
          .prepare('SELECT purpose, granted, updated_at AS at FROM consents WHERE resident_ref = ?')
          .all(ref) as { purpose: string; granted: number; at: number }[]
      ).map((r) => [r.purpose, r]),
    );
    const attrs = new Set(
      (
        this.db
          .prepare(
            'SELECT attribute FROM volunteered_attributes WHERE resident_ref = ? AND volunteered = 1',
          )
          .all(ref) as { attribute: string }[]
      ).map((r) => r.attribute),
    );
    return {
      consents: PURPOSES.map((purpose) => {
        const r = rows.get(purpose);
        return { purpose, given: r?.granted === 1, updatedAt: r?.at ?? null };
      }),
      attributes: ATTRIBUTES.filter((a) => attrs.has(a)),
    };
  }

  /** Gives or withdraws one purpose. Returns whether the stored answer changed. */
  setConsent(ref: string, purpose: ConsentPurpose, given: boolean, at = this.now()): boolean {
    this.#requireResident(ref);
    return this.db.transaction(() => {
      const before = this.#granted(ref, purpose);
      this.db
        .prepare(
          `INSERT INTO consents (resident_ref, purpose, granted, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (resident_ref, purpose) DO UPDATE SET granted = excluded.granted,
             updated_at = excluded.updated_at
           WHERE excluded.updated_at >= consents.updated_at`,
        )
        .run(ref, purpose, given ? 1 : 0, at);
      const after = this.#granted(ref, purpose);
      if (before !== after && purpose === HEALTH_SEGMENTATION) this.#rescore(ref);
      return before !== after;
    })();
  }

  /** Volunteers (true) or removes (false) some attributes, leaving the others as they are. */
  setAttributes(
    ref: string,
    changes: readonly { attribute: VolunteeredAttribute; volunteered: boolean }[],
    at = this.now(),
  ): void {
    this.#requireResident(ref);
    const st = this.db.prepare(
      `INSERT INTO volunteered_attributes (resident_ref, attribute, volunteered, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (resident_ref, attribute) DO UPDATE SET volunteered = excluded.volunteered,
         updated_at = excluded.updated_at
       WHERE excluded.updated_at >= volunteered_attributes.updated_at`,
    );
    this.db.transaction(() => {
      for (const c of changes) st.run(ref, c.attribute, c.volunteered ? 1 : 0, at);
    })();
  }

  /**
   * Applies a consent event pushed by a kiosk (inside the ingestion transaction). The
   * event's own time orders it against other statements. Refuses (returns a reason) an
   * event about an unknown resident or naming an unknown staff member.
   */
  record(e: ConsentEvent): { code: 'not-found' | 'validation-failed'; reason: string } | null {
    if (!this.residentExists(e.residentRef)) {
      return { code: 'not-found', reason: 'no such resident' };
    }
    if (
      e.assistedBy !== null &&
      this.db.prepare('SELECT 1 FROM staff WHERE ref = ?').get(e.assistedBy) === undefined
    ) {
      return { code: 'validation-failed', reason: 'assisting staff member is unknown' };
    }
    const at = Date.parse(e.occurredAt);
    this.setConsent(e.residentRef, e.purpose, e.given, at);
    if (e.attributes !== null) {
      const chosen = new Set<string>(e.attributes);
      this.setAttributes(
        e.residentRef,
        ATTRIBUTES.map((attribute) => ({ attribute, volunteered: chosen.has(attribute) })),
        at,
      );
    }
    return null;
  }

  #granted(ref: string, purpose: string): boolean {
    const r = this.db
      .prepare('SELECT granted FROM consents WHERE resident_ref = ? AND purpose = ?')
      .get(ref, purpose) as { granted: number } | undefined;
    return r?.granted === 1;
  }

  /** Re-scores the resident's published segment with (or without) their GP visits. */
  #rescore(ref: string): void {
    const r = this.db
      .prepare('SELECT id FROM analytics_residents WHERE resident_ref = ?')
      .get(ref) as { id: number } | undefined;
    if (r) updateSegments(this.#analytics(), [r.id]);
  }
}
