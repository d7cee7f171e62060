import { pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';

/**
 * Staff PIN hashes, in the format kiosks check offline
 * (terminal/src/staff/pin-hash.ts): `pbkdf2-sha256$<iterations>$<salt b64>$<key b64>`.
 * PBKDF2-HMAC-SHA256 (RFC 8018), sized so a modest kiosk checks one in a fraction of a
 * second; a 4–8 digit PIN is protected by the kiosk's lockout, not by the hash alone.
 * TODO: move this and the kiosk's verifier into shared/ (one definition of the format);
 * until then both sides test the same fixed vector.
 */
export const PIN_HASH_ITERATIONS = 120_000;

export function hashPin(
  pin: string,
  iterations = PIN_HASH_ITERATIONS,
  salt: Buffer = randomBytes(16),
): string {
  const key = pbkdf2Sync(pin, salt, iterations, 32, 'sha256');
  return ['pbkdf2-sha256', iterations, salt.toString('base64'), key.toString('base64')].join('$');
}

/** A PIN that is not trivially guessable: no repeated or sequential digits only. */
export function isAcceptablePin(pin: string): boolean {
  if (!/^[0-9]{4,8}$/.test(pin)) return false;
  if (/^(\d)\1+$/.test(pin)) return false;
  const digits = [...pin].map(Number);
  const step = (digits[1] ?? 0) - (digits[0] ?? 0);
  const sequential =
    Math.abs(step) === 1 && digits.every((d, i) => i === 0 || d - (digits[i - 1] ?? 0) === step);
  return !sequential;
}

/** A random 6-digit PIN for a new staff member, shown once. */
export function newPin(): string {
  for (;;) {
    const pin = String(randomInt(0, 1_000_000)).padStart(6, '0');
    if (isAcceptablePin(pin)) return pin;
  }
}
