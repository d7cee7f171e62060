import { describe, expect, it } from 'vitest';
import { hashPin, isPinShaped, verifyPin } from './pin-hash.js';

// PIN 2468, salt 00..0f, 10,000 iterations: what the backend writes and kiosks check.
const VECTOR =
  'pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$GgjWCG9tx/ZuEBPQdwdLZH6ofwGkpLjHezyaXuDmorE=';
const SALT = Buffer.from([...Array(16).keys()]);

describe('staff PIN hashes', () => {
  it('hash to the fixed vector, and verify it', () => {
    expect(hashPin('2468', 10_000, SALT)).toBe(VECTOR);
    expect(verifyPin('2468', VECTOR)).toBe(true);
    expect(verifyPin('2467', VECTOR)).toBe(false);
  });

  it('use a fresh salt each time, and default to the full iteration count', () => {
    const a = hashPin('2468');
    const b = hashPin('2468');
    expect(a).not.toBe(b);
    expect(a.split('$')[1]).toBe('120000');
    expect(verifyPin('2468', a)).toBe(true);
  });

  it('never match a malformed hash or one with implausible parameters', () => {
    for (const bad of [
      '',
      'scrypt$1$2$3$4$5',
      'pbkdf2-sha256$1$AAAA$BBBB',
      VECTOR.replace('$10000$', '$9999$'),
      VECTOR.replace('$10000$', '$99999999$'),
      VECTOR.replace('AAECAwQFBgcICQoLDA0ODw==', 'AAEC'),
      `${VECTOR}$extra`,
    ]) {
      expect(verifyPin('2468', bad), bad).toBe(false);
    }
  });

  it('shape: 4 to 8 digits', () => {
    for (const ok of ['2468', '12345678']) expect(isPinShaped(ok)).toBe(true);
    for (const bad of ['123', '123456789', '12a4', ' 2468']) expect(isPinShaped(bad)).toBe(false);
  });
});
