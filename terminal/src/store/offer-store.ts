import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { PullPage } from '@clubcard/shared';
import { civilOfDay, londonDay } from '@clubcard/shared/rules/london-time';
import type { Offer } from '../bridge/kiosk-bridge.js';

/** Today's London date as YYYY-MM-DD. */
export function londonDate(utcMs: number): string {
  const { year, month, dayOfMonth } = civilOfDay(londonDay(utcMs));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(dayOfMonth).padStart(2, '0')}`;
}

interface OfferRow {
  id: string;
  titleEn: string;
  titleCy: string;
  detailEn: string | null;
  detailCy: string | null;
}

/**
 * Targeted offers on the kiosk (migration 005), kept apart from KioskStore so that the
 * tap path's store stays small. Pulled offers replace the kiosk's copy by id; a pulled
 * resident entry replaces the offers held for that resident (an empty list clears them).
 * Nothing else of the card's state is touched. Offers that are retired or past their end
 * date are removed; `offerFor` also checks the dates, so an offer never shows outside
 * them even between syncs.
 *
 * `offerFor` returns both languages: the screen picks the resident's.
 */
export class OfferStore {
  readonly #stmts = new Map<string, Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {}

  #s(sql: string): Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** Applies a pull page's offers (call inside the page's transaction). */
  apply(page: Pick<PullPage, 'offers' | 'offerResidents'>, now: number): void {
    for (const o of page.offers ?? []) {
      this.#s(
        `INSERT INTO offers (id, title_en, title_cy, detail_en, detail_cy, service_id, starts_on, ends_on, status, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET title_en = excluded.title_en, title_cy = excluded.title_cy,
           detail_en = excluded.detail_en, detail_cy = excluded.detail_cy, service_id = excluded.service_id,
           starts_on = excluded.starts_on, ends_on = excluded.ends_on, status = excluded.status,
           updated_at = excluded.updated_at`,
      ).run(
        o.id,
        o.title.en,
        o.title.cy,
        o.detail?.en ?? null,
        o.detail?.cy ?? null,
        o.serviceId,
        o.startsOn,
        o.endsOn,
        o.status,
        now,
      );
    }
    for (const r of page.offerResidents ?? []) {
      this.#s('DELETE FROM offer_residents WHERE resident_ref = ?').run(r.residentRef);
      for (const id of new Set(r.offerIds)) {
        this.#s('INSERT INTO offer_residents (resident_ref, offer_id) VALUES (?, ?)').run(
          r.residentRef,
          id,
        );
      }
    }
    this.expire(now);
  }

  /** Removes retired offers and those past their end date, with who they targeted. */
  expire(now = this.now()): number {
    const today = londonDate(now);
    const gone = `SELECT id FROM offers WHERE status = 'retired' OR (ends_on IS NOT NULL AND ends_on < ?)`;
    this.#s(`DELETE FROM offer_residents WHERE offer_id IN (${gone})`).run(today);
    return this.#s(`DELETE FROM offers WHERE id IN (${gone})`).run(today).changes;
  }

  /**
   * The offer to show this resident now: among the active offers that target them and
   * whose dates include today (London), the one that started most recently.
   */
  offerFor(residentRef: string): Offer | null {
    const today = londonDate(this.now());
    const r = this.#s(
      `SELECT o.id, o.title_en AS titleEn, o.title_cy AS titleCy, o.detail_en AS detailEn,
         o.detail_cy AS detailCy
       FROM offer_residents t JOIN offers o ON o.id = t.offer_id
       WHERE t.resident_ref = ? AND o.status = 'active' AND o.starts_on <= ?
         AND (o.ends_on IS NULL OR o.ends_on >= ?)
       ORDER BY o.starts_on DESC, o.id LIMIT 1`,
    ).get(residentRef, today, today) as OfferRow | undefined;
    if (!r) return null;
    return {
      id: r.id,
      title: { en: r.titleEn, cy: r.titleCy },
      detail:
        r.detailEn !== null && r.detailCy !== null ? { en: r.detailEn, cy: r.detailCy } : null,
    };
  }
}
