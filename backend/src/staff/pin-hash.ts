import { randomInt } from 'node:crypto';

/**
 * Staff PIN hashes: the format kiosks check offline is defined once, in shared/
 * (`pbkdf2-sha256$<iterations>$<salt b64>$<key b64>`). What PINs the backend accepts
 * and hands out is decided here.
 */
export { PIN_HASH_ITERATIONS, hashPin } from '@clubcard/shared';

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
