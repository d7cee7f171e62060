import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesCmac, cmacSubkeys } from './aes-cmac.js';
import { bytesToHex } from './bytes.js';
import { diversificationInput, diversifyAes128Key } from './diversify.js';
import { h, loadNtag424Vectors } from './test-vectors.js';

const vectors = loadNtag424Vectors();

/**
 * An independent reading of AN10922 §2.2: CBC-MAC with a zero IV over the 32-byte D whose
 * last block is masked with the given subkey. Written with node:crypto directly so that a
 * bug shared with the CMAC core would still show.
 */
function reference(master: Buffer, d: Buffer, subkey: Buffer): string {
  const masked = Buffer.from(d);
  for (let i = 0; i < 16; i++) masked[16 + i] = (masked[16 + i] ?? 0) ^ (subkey[i] ?? 0);
  const cipher = createCipheriv('aes-128-cbc', master, Buffer.alloc(16)).setAutoPadding(false);
  return bytesToHex(Buffer.concat([cipher.update(masked), cipher.final()]).subarray(16));
}

describe('AN10922 AES-128 key diversification', () => {
  it.each(vectors.key_diversification_an10922_aes128)('$source', (v) => {
    const key = diversifyAes128Key(h(v.master_key), {
      uid: h(v.uid),
      aid: h(v.aid),
      systemIdentifier: v.system_identifier_ascii,
    });
    expect(bytesToHex(key)).toBe(v.diversified_key.toUpperCase());
  });

  it('accepts the system identifier as bytes as well as ASCII text', () => {
    const v = vectors.key_diversification_an10922_aes128[0];
    if (!v) throw new Error('fixture has no diversification vector');
    const key = diversifyAes128Key(h(v.master_key), {
      uid: h(v.uid),
      aid: h(v.aid),
      systemIdentifier: Buffer.from(v.system_identifier_ascii, 'ascii'),
    });
    expect(bytesToHex(key)).toBe(v.diversified_key.toUpperCase());
  });

  it('pads a short M (UID only) to 32 bytes and uses K2 — not RFC 4493 padding', () => {
    const master = h('00112233445566778899AABBCCDDEEFF');
    const uid = h('04782E21801D80');
    const d = Buffer.alloc(32);
    d[0] = 0x01;
    uid.copy(d, 1);
    d[8] = 0x80;
    const expected = reference(master, d, cmacSubkeys(master).k2);
    expect(bytesToHex(diversifyAes128Key(master, { uid }))).toBe(expected);
    // Plain CMAC of 0x01 ‖ UID would pad to one block only: a different key.
    const rfc = aesCmac(master, Buffer.concat([Buffer.from([0x01]), uid]));
    expect(bytesToHex(rfc)).not.toBe(expected);
  });

  it('uses K1 and no padding when 0x01 ‖ M is exactly 32 bytes', () => {
    const master = h('00112233445566778899AABBCCDDEEFF');
    const uid = h('04782E21801D80');
    const systemIdentifier = 'ABCDEFGHIJKLMNOPQRSTUVWX'; // 7 + 24 = 31 bytes of M
    const d = Buffer.concat([Buffer.from([0x01]), uid, Buffer.from(systemIdentifier)]);
    expect(d).toHaveLength(32);
    const key = diversifyAes128Key(master, { uid, systemIdentifier });
    expect(bytesToHex(key)).toBe(reference(master, d, cmacSubkeys(master).k1));
    // A complete 32-byte message is where AN10922 and RFC 4493 agree.
    expect(key).toEqual(aesCmac(master, d));
  });

  it('gives different keys for different UIDs and purposes', () => {
    const master = h('00112233445566778899AABBCCDDEEFF');
    const a = diversifyAes128Key(master, { uid: h('04000000000001'), systemIdentifier: 'file' });
    const b = diversifyAes128Key(master, { uid: h('04000000000002'), systemIdentifier: 'file' });
    const c = diversifyAes128Key(master, { uid: h('04000000000001'), systemIdentifier: 'meta' });
    expect(new Set([a, b, c].map(bytesToHex)).size).toBe(3);
  });

  it('refuses an empty or over-long M, and a master key of the wrong size', () => {
    expect(() => diversificationInput({})).toThrow(/must not be empty/);
    expect(() =>
      diversificationInput({ uid: Buffer.alloc(7), systemIdentifier: 'x'.repeat(25) }),
    ).toThrow(/32 bytes|at most 31/);
    expect(() => diversifyAes128Key(Buffer.alloc(8), { uid: Buffer.alloc(7) })).toThrow(
      /master key must be 16 bytes/,
    );
    expect(() => diversificationInput({ systemIdentifier: 'café' })).toThrow(/printable ASCII/);
  });
});
