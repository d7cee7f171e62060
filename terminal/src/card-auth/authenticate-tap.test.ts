import { randomBytes } from 'node:crypto';
import {
  bytesToHex,
  type CardHash,
  cardHashOf,
  decryptPiccData,
  generateSun,
  type GeneratedSun,
} from '@clubcard/shared';
import type { CardProof, CardTechnology, TapRead } from '@clubcard/hardware';
import { describe, expect, it } from 'vitest';
import {
  authenticateTap,
  type CardAuthDeps,
  cardAuthenticator,
  rehearseSunCheck,
} from './authenticate-tap.js';
import { type ReadKeyRing, sdmFileReadKey, sdmMetaReadKey } from './card-keys.js';

const CARD_HASH_KEY = 'aa'.repeat(32);
const UID = '04A1B2C3D4E5F6';
const uidBytes = Buffer.from(UID, 'hex');

const v1 = { version: 1, masterKey: randomBytes(16) };
const v2 = { version: 2, masterKey: randomBytes(16) };
const v3 = { version: 3, masterKey: randomBytes(16) };
const ring: ReadKeyRing = { current: v3, previous: v2 };

const allowUidOnly = { allowUidOnly: true };
const secureOnly = { allowUidOnly: false };

function deps(
  over: Partial<CardAuthDeps> = {},
  counters = new Map<CardHash, number>(),
): CardAuthDeps {
  return {
    keyRing: ring,
    cardHash: (uid) => cardHashOf(CARD_HASH_KEY, uid),
    highestCounter: (hash) => counters.get(hash) ?? null,
    ...over,
  };
}

/** What a card personalised under `version` mirrors on read number `counter`. */
function sun(
  counter: number,
  version = v3,
  options: { plain?: boolean; uid?: Buffer; fileData?: Buffer } = {},
): GeneratedSun {
  const uid = options.uid ?? uidBytes;
  return generateSun({
    fileReadKey: sdmFileReadKey(version.masterKey, uid),
    ...(options.plain ? {} : { metaReadKey: sdmMetaReadKey(version.masterKey) }),
    uid,
    counter,
    ...(options.fileData ? { fileData: options.fileData } : {}),
    macInput: ({ encFileData }) =>
      Buffer.from(encFileData ? `${bytesToHex(encFileData)}&cmac=` : '', 'latin1'),
  });
}

function proofOf(s: GeneratedSun): CardProof {
  return {
    kind: 'sun',
    ...(s.piccData
      ? { piccData: bytesToHex(s.piccData) }
      : { uid: bytesToHex(s.uid), counter: s.counter }),
    cmac: bytesToHex(s.cmac),
    ...(s.encFileData ? { encFileData: bytesToHex(s.encFileData) } : {}),
    ...(s.macInput.length > 0 ? { macInput: s.macInput.toString('latin1') } : {}),
  };
}

function tap(proof: CardProof, technology: CardTechnology = 'ntag424', identifier = UID): TapRead {
  return { readerName: 'test', technology, identifier, proof, detectedAt: 0, apduMs: 0 };
}

describe('authenticateTap: SUN cards', () => {
  it('accepts encrypted PICCData under the current read-key version', () => {
    expect(authenticateTap(tap(proofOf(sun(5))), secureOnly, deps())).toEqual({
      ok: true,
      uid: UID,
      auth: { method: 'sun', keyVersion: 3, counter: 5 },
    });
  });

  it('accepts a card still on the previous version, and says so', () => {
    const result = authenticateTap(tap(proofOf(sun(9, v2))), secureOnly, deps());
    expect(result).toMatchObject({ ok: true, auth: { keyVersion: 2, counter: 9 } });
  });

  it('accepts a previous-version card whose PICCData decrypts to a counter-only tag under the current key', () => {
    // Under the wrong key PICCData decrypts to noise; one message in sixteen then carries a
    // tag that claims "counter mirrored, no UID". That must send the kiosk on to the
    // previous version, not refuse the card.
    let found: GeneratedSun | null = null;
    for (let i = 0; i < 5000 && !found; i++) {
      const candidate = sun(9, v2);
      const wrong = decryptPiccData(sdmMetaReadKey(v3.masterKey), candidate.piccData!);
      if (wrong.ok && wrong.piccData.uid === null) found = candidate;
    }
    expect(found).not.toBeNull();
    expect(authenticateTap(tap(proofOf(found!)), secureOnly, deps())).toMatchObject({
      ok: true,
      auth: { keyVersion: 2, counter: 9 },
    });
  });

  it('refuses a card on a version the kiosk no longer holds', () => {
    expect(authenticateTap(tap(proofOf(sun(9, v1))), secureOnly, deps())).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
  });

  it('accepts the plain UID + counter mirror', () => {
    const result = authenticateTap(tap(proofOf(sun(12, v3, { plain: true }))), secureOnly, deps());
    expect(result).toEqual({
      ok: true,
      uid: UID,
      auth: { method: 'sun', keyVersion: 3, counter: 12 },
    });
  });

  it('accepts a message with encrypted file data covered by the MAC', () => {
    const s = sun(13, v3, { fileData: Buffer.from('0123456789abcdef') });
    expect(authenticateTap(tap(proofOf(s)), secureOnly, deps()).ok).toBe(true);
    const proof = proofOf(s);
    if (proof.kind !== 'sun' || !proof.encFileData) throw new Error('expected file data');
    // Other file data, alone or with the MAC input rewritten to match: both refused.
    const enc = proof.encFileData;
    const other = (enc.startsWith('00') ? '11' : '00') + enc.slice(2);
    const swapped = { ...proof, encFileData: other };
    expect(authenticateTap(tap(swapped), secureOnly, deps())).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
    const rewritten = { ...swapped, macInput: `${other}&cmac=` };
    expect(authenticateTap(tap(rewritten), secureOnly, deps())).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
  });

  it('ignores the venue UID-only policy for secure cards', () => {
    expect(authenticateTap(tap(proofOf(sun(5))), allowUidOnly, deps()).ok).toBe(true);
  });

  it('works as the pipeline authenticator', () => {
    const authenticate = cardAuthenticator(deps());
    expect(authenticate(tap(proofOf(sun(1))), secureOnly).ok).toBe(true);
  });
});

describe('rehearseSunCheck: the SUN check run ahead, nothing kept', () => {
  it('leaves every decision as it was, and ignores what it cannot use', () => {
    const master = Buffer.from(v3.masterKey);
    const asked: string[] = [];
    const d = deps({
      highestCounter: (hash) => {
        asked.push(hash);
        return null;
      },
    });
    rehearseSunCheck(d, UID);
    rehearseSunCheck(d, UID);
    // Refused at the MAC (of zeros): the counter check after it was never reached.
    expect(asked).toEqual([]);
    // The wiped key was the rehearsal's own copy: the card still verifies, under v3.
    const r = authenticateTap(tap(proofOf(sun(7))), secureOnly, d);
    expect(r).toMatchObject({ ok: true, uid: UID, auth: { keyVersion: 3, counter: 7 } });
    expect(Buffer.from(v3.masterKey).equals(master)).toBe(true);
    // No keys, or a UID that is not an NTAG 424's: nothing to do, nothing thrown.
    expect(() => rehearseSunCheck(deps({ keyRing: null }), UID)).not.toThrow();
    expect(() => rehearseSunCheck(d, 'zz')).not.toThrow();
    expect(() => rehearseSunCheck(d, '04A1B2C3')).not.toThrow();
    const again = authenticateTap(tap(proofOf(sun(8))), secureOnly, d);
    expect(again).toMatchObject({ ok: true, auth: { counter: 8 } });
  });
});

describe('authenticateTap: not genuine', () => {
  it('refuses a tampered MAC', () => {
    const proof = proofOf(sun(5));
    if (proof.kind !== 'sun') throw new Error('expected a SUN proof');
    const cmac = (proof.cmac.startsWith('0') ? '1' : '0') + proof.cmac.slice(1);
    expect(authenticateTap(tap({ ...proof, cmac }), secureOnly, deps())).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
  });

  it('refuses a cloned UID without the keys (an emulator making up its own SUN)', () => {
    const forged = generateSun({ fileReadKey: randomBytes(16), uid: uidBytes, counter: 100 });
    expect(authenticateTap(tap(proofOf(forged)), secureOnly, deps())).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
    const withMeta = generateSun({
      fileReadKey: randomBytes(16),
      metaReadKey: sdmMetaReadKey(v3.masterKey), // even with a leaked meta-read key
      uid: uidBytes,
      counter: 100,
    });
    expect(authenticateTap(tap(proofOf(withMeta)), secureOnly, deps())).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
  });

  it("refuses another card's genuine message played back under this UID", () => {
    const other = sun(5, v3, { uid: Buffer.from('04000000000001', 'hex') });
    expect(authenticateTap(tap(proofOf(other)), secureOnly, deps())).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
    // With Random ID the reader sees 4 random bytes: the SUN alone identifies the card.
    expect(
      authenticateTap(tap(proofOf(other), 'ntag424', '08A1B2C3'), secureOnly, deps()),
    ).toMatchObject({
      ok: true,
      uid: '04000000000001',
    });
  });

  it('refuses garbage without throwing', () => {
    const garbage: CardProof[] = [
      { kind: 'sun', piccData: 'zz'.repeat(16), cmac: '00'.repeat(8) },
      { kind: 'sun', piccData: '00'.repeat(15), cmac: '00'.repeat(8) },
      { kind: 'sun', piccData: '00'.repeat(16), cmac: '00'.repeat(7) },
      { kind: 'sun', piccData: '00'.repeat(16), cmac: '00'.repeat(8) },
      { kind: 'sun', piccData: '00'.repeat(16), uid: UID, counter: 1, cmac: '00'.repeat(8) },
      { kind: 'sun', uid: UID, cmac: '00'.repeat(8) },
      { kind: 'sun', uid: '04', counter: 1, cmac: '00'.repeat(8) },
      { kind: 'sun', uid: UID, counter: 2 ** 24, cmac: '00'.repeat(8) },
      { kind: 'sun', uid: UID, counter: 1, cmac: '00'.repeat(8), encFileData: '00'.repeat(15) },
      { kind: 'sun', cmac: '' },
    ];
    for (const proof of garbage) {
      expect(authenticateTap(tap(proof), allowUidOnly, deps())).toMatchObject({
        ok: false,
        code: 'card-not-genuine',
      });
    }
  });

  it('refuses SUN taps when the kiosk holds no read keys', () => {
    expect(
      authenticateTap(tap(proofOf(sun(5))), secureOnly, deps({ keyRing: null })),
    ).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
  });

  it('never puts the UID in a refusal', () => {
    const other = sun(5, v3, { uid: Buffer.from('04000000000001', 'hex') });
    const refusals = [
      authenticateTap(tap(proofOf(other)), secureOnly, deps()),
      authenticateTap(tap({ kind: 'none' }, 'ntag21x'), secureOnly, deps()),
      authenticateTap(
        tap(proofOf(sun(5))),
        secureOnly,
        deps({}, new Map([[cardHashOf(CARD_HASH_KEY, UID), 9]])),
      ),
    ];
    for (const r of refusals) {
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toMatch(new RegExp(`${UID}|04000000000001`, 'i'));
    }
  });
});

describe('authenticateTap: replays', () => {
  const hash = cardHashOf(CARD_HASH_KEY, UID);

  it('refuses a counter equal to or below the highest seen', () => {
    const counters = new Map([[hash, 41]]);
    expect(authenticateTap(tap(proofOf(sun(41))), secureOnly, deps({}, counters))).toMatchObject({
      ok: false,
      code: 'card-replayed',
    });
    expect(authenticateTap(tap(proofOf(sun(7))), secureOnly, deps({}, counters))).toMatchObject({
      ok: false,
      code: 'card-replayed',
    });
    expect(authenticateTap(tap(proofOf(sun(42))), secureOnly, deps({}, counters))).toMatchObject({
      ok: true,
      auth: { counter: 42 },
    });
  });

  it('refuses the very same message twice once the caller records its counter', () => {
    const counters = new Map<CardHash, number>();
    const message = tap(proofOf(sun(3)));
    const first = authenticateTap(message, secureOnly, deps({}, counters));
    if (!first.ok || first.auth.counter === null) throw new Error('first tap should pass');
    counters.set(hash, first.auth.counter); // what the pipeline does in the event's transaction
    expect(authenticateTap(message, secureOnly, deps({}, counters))).toMatchObject({
      ok: false,
      code: 'card-replayed',
    });
  });

  it('looks the counter up by card hash, never by UID', () => {
    const seen: string[] = [];
    authenticateTap(
      tap(proofOf(sun(3))),
      secureOnly,
      deps({ highestCounter: (h) => (seen.push(h), null) }),
    );
    expect(seen).toEqual([hash]);
  });
});

describe('authenticateTap: cards without proof', () => {
  it('accepts a plain UID card only where the venue allows it', () => {
    expect(
      authenticateTap(tap({ kind: 'none' }, 'ntag21x', '04aabbccddeeff'), allowUidOnly, deps()),
    ).toEqual({
      ok: true,
      uid: '04AABBCCDDEEFF',
      auth: { method: 'uid-only', keyVersion: null, counter: null },
    });
    expect(authenticateTap(tap({ kind: 'none' }, 'ntag21x'), secureOnly, deps())).toMatchObject({
      ok: false,
      code: 'uid-only-not-allowed',
    });
  });

  it('treats fobs and barcodes as UID-only', () => {
    expect(
      authenticateTap(tap({ kind: 'none' }, 'hid-fob', '0012345678'), allowUidOnly, deps()),
    ).toEqual({
      ok: true,
      uid: '0012345678',
      auth: { method: 'hid-fob', keyVersion: null, counter: null },
    });
    expect(
      authenticateTap(tap({ kind: 'none' }, 'hid-fob', '0012345678'), secureOnly, deps()),
    ).toMatchObject({
      ok: false,
      code: 'uid-only-not-allowed',
    });
  });

  it('refuses a secure card presented without its proof when the card is known to be secure', () => {
    const d = deps({ requiresProof: (h) => h === cardHashOf(CARD_HASH_KEY, UID) });
    expect(authenticateTap(tap({ kind: 'none' }, 'ntag21x'), allowUidOnly, d)).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
    expect(
      authenticateTap(tap({ kind: 'none' }, 'ntag21x', '04000000000002'), allowUidOnly, d).ok,
    ).toBe(true);
  });

  it('refuses an identifier that is not a UID', () => {
    expect(
      authenticateTap(tap({ kind: 'none' }, 'ntag21x', 'not-hex'), allowUidOnly, deps()),
    ).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
  });

  it('accepts the simulated reader only when configured to', () => {
    expect(authenticateTap(tap({ kind: 'none' }, 'simulated'), secureOnly, deps())).toMatchObject({
      ok: false,
      code: 'card-not-genuine',
    });
    expect(
      authenticateTap(
        tap({ kind: 'none' }, 'simulated'),
        secureOnly,
        deps({ allowSimulated: true }),
      ),
    ).toEqual({
      ok: true,
      uid: UID,
      auth: { method: 'simulated', keyVersion: null, counter: null },
    });
  });
});
