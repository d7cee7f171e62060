import { isPinShaped, verifyPin } from './pin-hash.js';

/** A staff member as a kiosk knows them (synced; PIN as a hash only). */
export interface StaffRecord {
  staffRef: string;
  firstName: string;
  pinHash: string;
  /** Venue ids this person may act at, or ['*'] for all. */
  venues: string[];
}

/** Where staff and their lockout state live (the kiosk store; a fake in tests). */
export interface StaffDirectory {
  /** The active staff member whose active card this is, or null. */
  staffByCard(cardHash: string): StaffRecord | null;
  lockout(staffRef: string): { failures: number; lockedUntil: number | null };
  setLockout(staffRef: string, failures: number, lockedUntil: number | null): void;
}

export interface StaffPolicy {
  /** Wrong PINs in a row before the staff card locks. */
  maxAttempts: number;
  lockMs: number;
  /** Time to type the PIN after tapping the staff card. */
  pinEntryMs: number;
  /** A signed-in session ends after this long without staff activity … */
  idleMs: number;
  /** … and the screen warns this long before (WCAG 2.2.1: a simple way to extend). */
  warnMs: number;
}

export const DEFAULT_STAFF_POLICY: StaffPolicy = {
  maxAttempts: 5,
  lockMs: 15 * 60_000,
  pinEntryMs: 2 * 60_000,
  idleMs: 5 * 60_000,
  warnMs: 60_000,
};

export type StaffSessionState =
  | { status: 'signed-out' }
  | { status: 'awaiting-pin'; staff: StaffRecord; until: number }
  | { status: 'signed-in'; staff: StaffRecord; until: number }
  | { status: 'locked'; staff: StaffRecord; until: number };

export type PinResult =
  | { ok: true }
  | { ok: false; code: 'unauthenticated'; attemptsLeft: number }
  | { ok: false; code: 'too-many-attempts'; lockedUntil: number }
  | { ok: false; code: 'bad-request' };

/**
 * Staff mode on one kiosk: staff card, then PIN, checked offline against the synced
 * hash. Wrong PINs are counted per staff member in the store (a restart does not reset
 * them); after `maxAttempts` the card is locked for `lockMs`. A session ends after
 * `idleMs` without activity, and the screen warns `warnMs` before. Pure logic over an
 * injected clock and directory: no timers here (the caller asks `expire()` when due).
 */
export class StaffSessions {
  #state: StaffSessionState = { status: 'signed-out' };

  constructor(
    private readonly dir: StaffDirectory,
    private readonly venueId: string,
    private readonly now: () => number = Date.now,
    readonly policy: StaffPolicy = DEFAULT_STAFF_POLICY,
  ) {}

  state(): StaffSessionState {
    this.expire();
    return this.#state;
  }

  /** A card was tapped: is it a staff card here? Starts PIN entry when it is. */
  cardTapped(cardHash: string): 'awaiting-pin' | 'locked' | 'not-staff' {
    const staff = this.dir.staffByCard(cardHash);
    if (!staff || !(staff.venues.includes('*') || staff.venues.includes(this.venueId))) {
      return 'not-staff';
    }
    const now = this.now();
    const lock = this.dir.lockout(staff.staffRef);
    if (lock.lockedUntil !== null && lock.lockedUntil > now) {
      this.#state = { status: 'locked', staff, until: lock.lockedUntil };
      return 'locked';
    }
    this.#state = { status: 'awaiting-pin', staff, until: now + this.policy.pinEntryMs };
    return 'awaiting-pin';
  }

  enterPin(pin: string): PinResult {
    this.expire();
    const s = this.#state;
    if (s.status !== 'awaiting-pin' || !isPinShaped(pin)) return { ok: false, code: 'bad-request' };
    const now = this.now();
    const lock = this.dir.lockout(s.staff.staffRef);
    if (lock.lockedUntil !== null && lock.lockedUntil > now) {
      this.#state = { status: 'locked', staff: s.staff, until: lock.lockedUntil };
      return { ok: false, code: 'too-many-attempts', lockedUntil: lock.lockedUntil };
    }
    // A lock that has run out starts a fresh count.
    const failuresSoFar = lock.lockedUntil !== null ? 0 : lock.failures;
    if (verifyPin(pin, s.staff.pinHash)) {
      this.dir.setLockout(s.staff.staffRef, 0, null);
      this.#state = { status: 'signed-in', staff: s.staff, until: now + this.policy.idleMs };
      return { ok: true };
    }
    const failures = failuresSoFar + 1;
    if (failures >= this.policy.maxAttempts) {
      const lockedUntil = now + this.policy.lockMs;
      this.dir.setLockout(s.staff.staffRef, failures, lockedUntil);
      this.#state = { status: 'locked', staff: s.staff, until: lockedUntil };
      return { ok: false, code: 'too-many-attempts', lockedUntil };
    }
    this.dir.setLockout(s.staff.staffRef, failures, null);
    return { ok: false, code: 'unauthenticated', attemptsLeft: this.policy.maxAttempts - failures };
  }

  /** Staff activity: pushes the end of a signed-in session back. */
  touch(): boolean {
    this.expire();
    if (this.#state.status !== 'signed-in') return false;
    this.#state = { ...this.#state, until: this.now() + this.policy.idleMs };
    return true;
  }

  signOut(): void {
    this.#state = { status: 'signed-out' };
  }

  /** The signed-in staff member, or null. */
  signedIn(): StaffRecord | null {
    const s = this.state();
    return s.status === 'signed-in' ? s.staff : null;
  }

  /** When the screen should warn (signed-in only). */
  warnFrom(): number | null {
    const s = this.state();
    return s.status === 'signed-in' ? s.until - this.policy.warnMs : null;
  }

  /** Ends whatever has run out; true when the state changed. */
  expire(): boolean {
    const s = this.#state;
    if (s.status !== 'signed-out' && s.until <= this.now()) {
      this.#state = { status: 'signed-out' };
      return true;
    }
    return false;
  }

  /** Attempts left before a lock, for the PIN screen. */
  attemptsLeft(): number | null {
    const s = this.#state;
    if (s.status !== 'awaiting-pin') return null;
    const lock = this.dir.lockout(s.staff.staffRef);
    const failures = lock.lockedUntil !== null ? 0 : lock.failures;
    return this.policy.maxAttempts - failures;
  }
}
