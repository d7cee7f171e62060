import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Staff PIN hashes: the one definition of the format that the backend writes
 * (`clubcard staff add`, the admin API) and kiosks check offline after sync:
 * `pbkdf2-sha256$<iterations>$<salt b64>$<key b64>`.
 *
 * PBKDF2-HMAC-SHA256 (RFC 8018) because a kiosk must check one in well under a second on
 * modest hardware, while a 4–8 digit PIN is too small a space for any hash to protect on
 * its own: what protects a PIN is the kiosk's lockout (a few tries, then the staff card is
 * locked) and that the hashes are synced only to kiosks, signed. The parameters travel
 * with the hash so they can be raised later.
 */
export const PIN_HASH_ITERATIONS = 120_000;
const KEYLEN = 32;
const SCHEME = 'pbkdf2-sha256';
/** Iterations a stored hash may claim: fewer is too weak, more would stall a kiosk. */
const MIN_ITERATIONS = 10_000;
const MAX_ITERATIONS = 10_000_000;

/** Hashes a PIN with a fresh random salt (or the given one, for test vectors). */
export function hashPin(
  pin: string,
  iterations = PIN_HASH_ITERATIONS,
  salt: Buffer = randomBytes(16),
): string {
  const key = pbkdf2Sync(pin, salt, iterations, KEYLEN, 'sha256');
  return [SCHEME, iterations, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Checks a PIN against a stored hash in constant time; malformed hashes never match. */
export function verifyPin(pin: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 4 || parts[0] !== SCHEME) return false;
  const iterations = Number(parts[1]);
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    return false;
  }
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const expected = Buffer.from(parts[3] ?? '', 'base64');
  if (salt.length < 16 || expected.length !== KEYLEN) return false;
  const key = pbkdf2Sync(pin, salt, iterations, KEYLEN, 'sha256');
  return timingSafeEqual(key, expected);
}

/** Shape of a PIN: 4 to 8 digits. */
export function isPinShaped(pin: string): boolean {
  return /^[0-9]{4,8}$/.test(pin);
}
