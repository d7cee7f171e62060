import { describe, expect, it } from 'vitest';
import { hashPin } from './pin-hash.js';
import { StaffSessions, type StaffDirectory, type StaffRecord } from './staff-session.js';

const PIN_HASH = hashPin('2468', 10_000);
const ALEX: StaffRecord = {
  staffRef: 'st-alex',
  firstName: 'Alex',
  pinHash: PIN_HASH,
  venues: ['v-pool'],
};

function setup(): {
  s: StaffSessions;
  clock: { t: number };
  locks: Map<string, { failures: number; lockedUntil: number | null }>;
} {
  const clock = { t: 1_000_000 };
  const locks = new Map<string, { failures: number; lockedUntil: number | null }>();
  const dir: StaffDirectory = {
    staffByCard: (h) => (h === 'card-alex' ? ALEX : null),
    lockout: (ref) => locks.get(ref) ?? { failures: 0, lockedUntil: null },
    setLockout: (ref, failures, lockedUntil) => locks.set(ref, { failures, lockedUntil }),
  };
  return { s: new StaffSessions(dir, 'v-pool', () => clock.t), clock, locks };
}

describe('staff sessions', () => {
  it('signs in with a staff card and the right PIN, at a venue the staff member works at', () => {
    const { s } = setup();
    expect(s.cardTapped('card-resident')).toBe('not-staff');
    expect(s.cardTapped('card-alex')).toBe('awaiting-pin');
    expect(s.enterPin('2468')).toEqual({ ok: true });
    expect(s.signedIn()?.staffRef).toBe('st-alex');
  });

  it('refuses a staff card at another venue', () => {
    const clock = { t: 0 };
    const dir: StaffDirectory = {
      staffByCard: () => ALEX,
      lockout: () => ({ failures: 0, lockedUntil: null }),
      setLockout: () => undefined,
    };
    expect(new StaffSessions(dir, 'v-library', () => clock.t).cardTapped('card-alex')).toBe(
      'not-staff',
    );
  });

  it('counts wrong PINs and locks the card after five, even for the right PIN then', () => {
    const { s, clock, locks } = setup();
    s.cardTapped('card-alex');
    for (let i = 4; i >= 1; i--) {
      expect(s.enterPin('1111')).toEqual({ ok: false, code: 'unauthenticated', attemptsLeft: i });
    }
    const locked = s.enterPin('1111');
    expect(locked).toMatchObject({ ok: false, code: 'too-many-attempts' });
    expect(s.state().status).toBe('locked');
    expect(s.enterPin('2468')).toEqual({ ok: false, code: 'bad-request' });
    // A new tap while locked stays locked (the count lives in the store, not the session).
    expect(s.cardTapped('card-alex')).toBe('locked');
    expect(locks.get('st-alex')?.failures).toBe(5);
    clock.t += 15 * 60_000 + 1;
    expect(s.cardTapped('card-alex')).toBe('awaiting-pin');
    expect(s.attemptsLeft()).toBe(5);
    expect(s.enterPin('2468')).toEqual({ ok: true });
    expect(locks.get('st-alex')).toEqual({ failures: 0, lockedUntil: null });
  });

  it('keeps counting across a new session object (a kiosk restart does not reset tries)', () => {
    const { s, locks } = setup();
    s.cardTapped('card-alex');
    s.enterPin('0000');
    s.enterPin('0000');
    const again = new StaffSessions(
      {
        staffByCard: () => ALEX,
        lockout: (ref) => locks.get(ref) ?? { failures: 0, lockedUntil: null },
        setLockout: (ref, f, l) => locks.set(ref, { failures: f, lockedUntil: l }),
      },
      'v-pool',
      () => 1_000_000,
    );
    again.cardTapped('card-alex');
    expect(again.attemptsLeft()).toBe(3);
  });

  it('times out PIN entry and idle sessions, warning a minute before; activity extends', () => {
    const { s, clock } = setup();
    s.cardTapped('card-alex');
    clock.t += 2 * 60_000;
    expect(s.state().status).toBe('signed-out');
    s.cardTapped('card-alex');
    s.enterPin('2468');
    const warnAt = s.warnFrom()!;
    expect(s.state()).toMatchObject({ status: 'signed-in', until: warnAt + 60_000 });
    clock.t = warnAt + 1000;
    expect(s.touch()).toBe(true);
    expect(s.warnFrom()).toBe(clock.t + 4 * 60_000);
    clock.t += 5 * 60_000;
    expect(s.signedIn()).toBeNull();
    expect(s.touch()).toBe(false);
  });

  it('refuses PINs that are not 4–8 digits without counting them', () => {
    const { s, locks } = setup();
    s.cardTapped('card-alex');
    for (const bad of ['', '123', '123456789', '12a4', ' 2468']) {
      expect(s.enterPin(bad)).toEqual({ ok: false, code: 'bad-request' });
    }
    expect(locks.size).toBe(0);
  });
});
