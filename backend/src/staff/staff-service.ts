import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError, cardHashOf, type SyncedStaff } from '@clubcard/shared';
import type { Db } from '../db/open.js';
import { hashPin, isAcceptablePin } from './pin-hash.js';

const UidSchema = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.string().regex(/^([0-9A-F]{2}){4,10}$/, 'UID: 4–10 bytes of hex'));
const PinSchema = z
  .string()
  .refine(isAcceptablePin, 'PIN: 4–8 digits, not all the same, not a run like 1234');

export const NewStaffSchema = z.object({
  firstName: z.string().trim().min(1).max(40),
  /** Venue ids this person works at, or ['*'] for every venue. */
  venues: z
    .array(z.string().regex(/^(\*|v-[a-z0-9-]{1,60})$/))
    .min(1)
    .max(200),
  pin: PinSchema,
});
export const StaffCardSchema = z.object({ uid: UidSchema });
export const StaffPinSchema = z.object({ pin: PinSchema });

export interface StaffRow {
  staffRef: string;
  firstName: string;
  venues: string[];
  status: 'active' | 'disabled';
  cards: number;
}

/**
 * Staff accounts for kiosk staff mode: a first name, the venues they work at, a PIN
 * (hashed for offline checks) and staff cards (as card hashes). Every change is put on
 * the kiosk change feed as kind `staff`, so kiosks pick it up on their next pull; a card
 * blocked or an account disabled reaches them the same way.
 */
export class StaffService {
  constructor(
    private readonly db: Db,
    private readonly cardHashKey: string,
    private readonly now: () => number = Date.now,
  ) {}

  #changed(ref: string): void {
    this.db
      .prepare("INSERT INTO changes (kind, key, created_at) VALUES ('staff', ?, ?)")
      .run(ref, this.now());
  }

  #exists(ref: string): void {
    if (!this.db.prepare('SELECT 1 FROM staff WHERE ref = ?').get(ref)) {
      throw new AppError('not-found', `no staff member ${ref}`);
    }
  }

  add(input: z.input<typeof NewStaffSchema>): string {
    const s = NewStaffSchema.parse(input);
    const slug = s.firstName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
    const ref = `st-${slug || 'staff'}-${randomBytes(4).toString('hex')}`;
    const now = this.now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO staff (ref, first_name, pin_hash, venues, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, 'active', ?, ?)`,
        )
        .run(ref, s.firstName, hashPin(s.pin), JSON.stringify(s.venues), now, now);
      this.#changed(ref);
    })();
    return ref;
  }

  /** Issues a staff card. A card already issued to a resident cannot be a staff card. */
  issueCard(staffRef: string, input: z.input<typeof StaffCardSchema>): string {
    const { uid } = StaffCardSchema.parse(input);
    const hash = cardHashOf(this.cardHashKey, uid);
    this.db.transaction(() => {
      this.#exists(staffRef);
      if (this.db.prepare('SELECT 1 FROM cards WHERE card_hash = ?').get(hash)) {
        throw new AppError('bad-request', 'this card is a resident card');
      }
      if (this.db.prepare('SELECT 1 FROM staff_cards WHERE card_hash = ?').get(hash)) {
        throw new AppError('bad-request', 'this card is already a staff card');
      }
      this.db
        .prepare(
          "INSERT INTO staff_cards (card_hash, staff_ref, status, created_at) VALUES (?, ?, 'active', ?)",
        )
        .run(hash, staffRef, this.now());
      this.#changed(staffRef);
    })();
    return hash;
  }

  blockCard(input: z.input<typeof StaffCardSchema>): string {
    const { uid } = StaffCardSchema.parse(input);
    const hash = cardHashOf(this.cardHashKey, uid);
    const row = this.db
      .prepare('SELECT staff_ref FROM staff_cards WHERE card_hash = ?')
      .get(hash) as { staff_ref: string } | undefined;
    if (!row) throw new AppError('not-found', 'no such staff card');
    this.db.transaction(() => {
      this.db.prepare("UPDATE staff_cards SET status = 'blocked' WHERE card_hash = ?").run(hash);
      this.#changed(row.staff_ref);
    })();
    return row.staff_ref;
  }

  setPin(staffRef: string, input: z.input<typeof StaffPinSchema>): void {
    const { pin } = StaffPinSchema.parse(input);
    this.db.transaction(() => {
      this.#exists(staffRef);
      this.db
        .prepare('UPDATE staff SET pin_hash = ?, updated_at = ? WHERE ref = ?')
        .run(hashPin(pin), this.now(), staffRef);
      this.#changed(staffRef);
    })();
  }

  setStatus(staffRef: string, status: 'active' | 'disabled'): void {
    this.db.transaction(() => {
      this.#exists(staffRef);
      this.db
        .prepare('UPDATE staff SET status = ?, updated_at = ? WHERE ref = ?')
        .run(status, this.now(), staffRef);
      this.#changed(staffRef);
    })();
  }

  list(): StaffRow[] {
    return (
      this.db
        .prepare(
          `SELECT s.ref AS staffRef, s.first_name AS firstName, s.venues, s.status,
             (SELECT COUNT(*) FROM staff_cards c WHERE c.staff_ref = s.ref AND c.status = 'active') AS cards
           FROM staff s ORDER BY s.first_name, s.ref`,
        )
        .all() as (Omit<StaffRow, 'venues'> & { venues: string })[]
    ).map((r) => ({ ...r, venues: JSON.parse(r.venues) as string[] }));
  }

  /**
   * A staff record as a kiosk at `venueId` may have it. Staff who do not work there
   * reach that kiosk disabled and without a PIN hash, so a venue taken off someone's
   * list stops working there at the next pull, and no kiosk holds PIN hashes of staff
   * who never use it.
   */
  syncedFor(staffRef: string, venueId: string): SyncedStaff | null {
    const s = this.db
      .prepare('SELECT ref, first_name, pin_hash, venues, status FROM staff WHERE ref = ?')
      .get(staffRef) as
      | { ref: string; first_name: string; pin_hash: string; venues: string; status: string }
      | undefined;
    if (!s) return null;
    const venues = JSON.parse(s.venues) as string[];
    const here = venues.includes('*') || venues.includes(venueId);
    const cards = this.db
      .prepare('SELECT card_hash AS cardHash, status FROM staff_cards WHERE staff_ref = ?')
      .all(staffRef) as SyncedStaff['cards'];
    return {
      staffRef: s.ref,
      firstName: s.first_name,
      pinHash: here ? s.pin_hash : '',
      venues: here ? venues : [],
      status: here && s.status === 'active' ? 'active' : 'disabled',
      cards,
    };
  }
}
