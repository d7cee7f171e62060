import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cardHashOf } from './signing.js';

const KEY_A = '11'.repeat(32);
const KEY_B = '22'.repeat(32);

/** The definition: HMAC-SHA256 of the UID bytes under the card-hash key. */
const reference = (key: string, uid: string): string =>
  createHmac('sha256', Buffer.from(key, 'hex')).update(Buffer.from(uid, 'hex')).digest('hex');

describe('cardHashOf', () => {
  it('is the HMAC of the UID bytes, whatever was asked just before (the last one is reused)', () => {
    const asks: [string, string][] = [
      [KEY_A, '04A1B2C3D4E501'],
      [KEY_A, '04A1B2C3D4E501'],
      [KEY_A, '04A1B2C3D4E502'],
      [KEY_B, '04A1B2C3D4E502'],
      [KEY_B, '04A1B2C3D4E502'],
      [KEY_A, '04A1B2C3D4E501'],
      [KEY_A, '04a1b2c3d4e501'],
      [KEY_A, 'DEADBEEF'],
    ];
    for (const [key, uid] of asks) expect(cardHashOf(key, uid)).toBe(reference(key, uid));
  });

  it('refuses a UID that is not 4 to 10 bytes of hex, even right after a valid one', () => {
    cardHashOf(KEY_A, '04A1B2C3D4E501');
    for (const bad of ['', '04A', 'ZZA1B2C3', '00'.repeat(11)]) {
      expect(() => cardHashOf(KEY_A, bad)).toThrow(/4 to 10 bytes of hex/);
    }
  });
});
