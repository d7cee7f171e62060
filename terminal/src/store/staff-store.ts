import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { SyncedStaff } from '@clubcard/shared';
import type { Language } from '../bridge/kiosk-bridge.js';
import type { StaffDirectory, StaffRecord } from '../staff/staff-session.js';

/**
 * The kiosk app's tables (migration 003) over the kiosk store's database: staff synced
 * for offline staff mode, PIN lockouts, residents' language choice, and today's GP
 * drop-in queue. Kept apart from KioskStore so the tap path's store stays small.
 */
export class StaffStore implements StaffDirectory {
  readonly #stmts = new Map<string, Statement>();

  constructor(private readonly db: Database.Database) {}

  #s(sql: string): Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  staffByCard(cardHash: string): StaffRecord | null {
    const r = this.#s(
      `SELECT s.staff_ref AS staffRef, s.first_name AS firstName, s.pin_hash AS pinHash, s.venues
       FROM staff_cards c JOIN staff s ON s.staff_ref = c.staff_ref
       WHERE c.card_hash = ? AND c.status = 'active' AND s.status = 'active'`,
    ).get(cardHash) as
      { staffRef: string; firstName: string; pinHash: string; venues: string } | undefined;
    return r ? { ...r, venues: JSON.parse(r.venues) as string[] } : null;
  }

  lockout(staffRef: string): { failures: number; lockedUntil: number | null } {
    const r = this.#s(
      'SELECT failures, locked_until AS lockedUntil FROM staff_lockout WHERE staff_ref = ?',
    ).get(staffRef) as { failures: number; lockedUntil: number | null } | undefined;
    return r ?? { failures: 0, lockedUntil: null };
  }

  setLockout(staffRef: string, failures: number, lockedUntil: number | null): void {
    this.#s(
      `INSERT INTO staff_lockout (staff_ref, failures, locked_until) VALUES (?, ?, ?)
       ON CONFLICT(staff_ref) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until`,
    ).run(staffRef, failures, lockedUntil);
  }

  /**
   * Applies pulled staff records (upserts only; a disabled account or blocked card
   * arrives as a status, so nothing is deleted on a pushed list alone).
   */
  applyStaff(list: readonly SyncedStaff[], now: number): void {
    for (const st of list) {
      this.#s(
        `INSERT INTO staff (staff_ref, first_name, pin_hash, venues, status, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(staff_ref) DO UPDATE SET first_name = excluded.first_name, pin_hash = excluded.pin_hash,
           venues = excluded.venues, status = excluded.status, updated_at = excluded.updated_at`,
      ).run(st.staffRef, st.firstName, st.pinHash, JSON.stringify(st.venues), st.status, now);
      for (const c of st.cards) {
        this.#s(
          `INSERT INTO staff_cards (card_hash, staff_ref, status) VALUES (?, ?, ?)
           ON CONFLICT(card_hash) DO UPDATE SET staff_ref = excluded.staff_ref, status = excluded.status`,
        ).run(c.cardHash, st.staffRef, c.status);
      }
    }
  }

  languageOf(residentRef: string): Language | null {
    const r = this.#s('SELECT language FROM resident_prefs WHERE resident_ref = ?').get(
      residentRef,
    ) as { language: Language } | undefined;
    return r?.language ?? null;
  }

  setLanguage(residentRef: string, language: Language, now: number): void {
    this.#s(
      `INSERT INTO resident_prefs (resident_ref, language, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(resident_ref) DO UPDATE SET language = excluded.language, updated_at = excluded.updated_at`,
    ).run(residentRef, language, now);
  }

  /**
   * The resident's number in `day`'s GP drop-in queue: the same number if they already
   * checked in that day, else the next one. Earlier days are forgotten.
   */
  queueNumber(day: string, residentRef: string): number {
    return this.db
      .transaction(() => {
        this.#s('DELETE FROM gp_queue WHERE day <> ?').run(day);
        const had = this.#s('SELECT number FROM gp_queue WHERE day = ? AND resident_ref = ?').get(
          day,
          residentRef,
        ) as { number: number } | undefined;
        if (had) return had.number;
        const top = this.#s(
          'SELECT COALESCE(MAX(number), 0) AS top FROM gp_queue WHERE day = ?',
        ).get(day) as { top: number };
        const n = top.top + 1;
        this.#s('INSERT INTO gp_queue (day, resident_ref, number) VALUES (?, ?, ?)').run(
          day,
          residentRef,
          n,
        );
        return n;
      })
      .immediate();
  }
}
