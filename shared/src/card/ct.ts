import { timingSafeEqual } from 'node:crypto';
import type { Bytes } from './bytes.js';

/**
 * Compares two byte strings in time that does not depend on where they differ, so a MAC
 * cannot be guessed byte by byte from response times. Lengths are public (a MAC's length
 * is fixed by the spec), so unequal lengths return false at once instead of throwing as
 * crypto.timingSafeEqual does.
 */
export function constantTimeEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
