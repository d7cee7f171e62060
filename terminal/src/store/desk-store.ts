import type { Statement } from 'better-sqlite3';
import { AppError, CardAuthSchema, CardHashSchema, type CardAuth } from '@clubcard/shared';
import { z } from 'zod';
import type { KioskStore } from './kiosk-store.js';

/** A resident as this kiosk knows them (from pulled cards): never more than this. */
export interface LocalResident {
  residentRef: string;
  firstName: string | null;
  ageBand: string;
}

export interface NewLocalCard {
  cardHash: string;
  residentRef: string;
  firstName: string | null;
  ageBand: string;
  technology: string;
}

/** The card fields of a stored tap event (checked: the outbox is read back, not trusted). */
const TapOfEventSchema = z.object({ cardHash: CardHashSchema, auth: CardAuthSchema });

const LIKE_SPECIALS = /[\\%_]/g;

/**
 * What the staff desk and the redemption step read and write beside the tap path, over
 * the kiosk store's database: residents known from pulled cards, cards issued or blocked
 * at this desk, the card of a resident's last tap, and what they redeemed here since the
 * last sync. Writes are meant to run inside KioskStore.appendEvent's transaction, so they
 * commit with the event that records them. Shares the kiosk store's prepared statements.
 */
export class DeskStore {
  constructor(private readonly store: Pick<KioskStore, 'prepared'>) {}

  #s(sql: string): Statement {
    return this.store.prepared(sql);
  }

  /**
   * Residents whose reference is the query (or starts with it), or whose first name
   * starts with it (any case). At most `limit`, by first name.
   */
  findResidents(query: string, limit: number): LocalResident[] {
    const q = query.trim();
    if (q.length === 0) return [];
    const prefix = `${q.toLowerCase().replace(LIKE_SPECIALS, (c) => `\\${c}`)}%`;
    return this.#s(
      `SELECT resident_ref AS residentRef, MAX(first_name) AS firstName, MAX(age_band) AS ageBand
       FROM cards
       WHERE resident_ref LIKE ? ESCAPE '\\' OR lower(first_name) LIKE ? ESCAPE '\\'
       GROUP BY resident_ref
       ORDER BY lower(MAX(first_name)), resident_ref
       LIMIT ?`,
    ).all(prefix, prefix, limit) as LocalResident[];
  }

  residentOf(residentRef: string): LocalResident | null {
    const r = this.#s(
      `SELECT resident_ref AS residentRef, MAX(first_name) AS firstName, MAX(age_band) AS ageBand
       FROM cards WHERE resident_ref = ? GROUP BY resident_ref`,
    ).get(residentRef) as LocalResident | undefined;
    return r ?? null;
  }

  /** The resident's cards that are not blocked, newest first. */
  activeCardsOf(residentRef: string): string[] {
    return (
      this.#s(
        `SELECT card_hash AS cardHash FROM cards WHERE resident_ref = ? AND status = 'active'
         ORDER BY updated_at DESC, card_hash`,
      ).all(residentRef) as { cardHash: string }[]
    ).map((r) => r.cardHash);
  }

  /** Binds a card issued at this desk; refuses a card this kiosk already knows (or a staff card). */
  addCard(c: NewLocalCard, now: number): void {
    if (
      this.#s('SELECT 1 FROM cards WHERE card_hash = ?').get(c.cardHash) ||
      this.#s('SELECT 1 FROM staff_cards WHERE card_hash = ?').get(c.cardHash)
    ) {
      throw new AppError('card-already-issued', 'this card is already issued');
    }
    this.#s(
      `INSERT INTO cards (card_hash, resident_ref, status, first_name, age_band, updated_at, technology)
       VALUES (?, ?, 'active', ?, ?, ?, ?)`,
    ).run(c.cardHash, c.residentRef, c.firstName, c.ageBand, now, c.technology);
  }

  /** Hotlists cards at this kiosk at once (the backend does so when the event arrives). */
  blockCards(hashes: readonly string[], now: number): void {
    const s = this.#s("UPDATE cards SET status = 'blocked', updated_at = ? WHERE card_hash = ?");
    for (const h of hashes) s.run(now, h);
  }

  /**
   * The card and authentication of the resident's last tap at this kiosk (a visit not
   * recorded by hand): what a redemption right after the tap is made with.
   */
  lastTap(residentRef: string): { cardHash: string; auth: CardAuth } | null {
    const r = this.#s(
      `SELECT payload FROM outbox
       WHERE resident_ref = ? AND type = 'visit' AND json_extract(payload, '$.auth.method') <> 'staff-manual'
       ORDER BY seq DESC LIMIT 1`,
    ).get(residentRef) as { payload: string } | undefined;
    if (!r) return null;
    const tap = TapOfEventSchema.safeParse(JSON.parse(r.payload));
    return tap.success ? tap.data : null;
  }

  /** What the resident redeemed from a wallet at this kiosk that the backend has not settled. */
  redeemedSinceSync(residentRef: string, wallet: string): number {
    const r = this.#s(
      `SELECT COALESCE(SUM(json_extract(payload, '$.amount')), 0) AS spent FROM outbox
       WHERE resident_ref = ? AND type = 'redemption' AND status = 'pending'
         AND json_extract(payload, '$.wallet') = ?`,
    ).get(residentRef, wallet) as { spent: number };
    return r.spent;
  }
}
