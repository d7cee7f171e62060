import {
  type Bytes,
  bytesToHex,
  type CardAuth,
  type CardHash,
  decryptPiccData,
  encryptPiccData,
  MAX_SDM_READ_COUNTER,
  NTAG424_UID_LENGTH,
  PICC_DATA_LENGTH,
  SDM_MAC_LENGTH,
  tryHexToBytes,
  verifySun,
} from '@clubcard/shared';
import type { CardProof, TapRead } from '@clubcard/hardware';
import {
  heldReadKeys,
  type ReadKeyRing,
  readKeyVersions,
  sdmFileReadKey,
  sdmMetaReadKey,
} from './card-keys.js';

/**
 * The kiosk's authenticate step, as a pure decision: is this tap a genuine card, and may
 * it be accepted at this venue? It reads nothing but its inputs and writes nothing: the
 * caller persists the new highest counter in the same transaction as the event. It never
 * logs, and its refusals carry no UID (UIDs are personal data).
 */

export type CardAuthErrorCode = 'card-not-genuine' | 'card-replayed' | 'uid-only-not-allowed';

export type TapAuthResult =
  | {
      ok: true;
      /** Card UID, uppercase hex (for fobs and barcodes, the decoded identifier). */
      uid: string;
      auth: CardAuth;
    }
  | {
      ok: false;
      code: CardAuthErrorCode;
      /** Why, in words safe to log: never a UID, key or counter. */
      reason: string;
    };

/** The venue's legacy policy (LocalVenue satisfies it). */
export interface VenuePolicy {
  /** Accept cards that prove nothing (plain-UID cards, fobs, barcodes), marked as such. */
  allowUidOnly: boolean;
}

export interface CardAuthDeps {
  /** Read keys held by this kiosk; null when it has none (secure taps cannot be verified). */
  keyRing: ReadKeyRing | null;
  /** The card hash of a UID (HMAC under the council card-hash key). */
  cardHash: (uidHex: string) => CardHash;
  /** Highest SUN read counter seen for this card, or null if none was recorded. */
  highestCounter: (cardHash: CardHash) => number | null;
  /**
   * Optional: true when the card was issued as a secure card. A read of such a card with
   * no proof is a clone of its UID onto a plain card, refused even where UID-only cards
   * are allowed. Without it, a proofless read is judged by the venue policy alone.
   */
  requiresProof?: (cardHash: CardHash) => boolean;
  /** Accept taps from the simulated reader (demo and tests only). Default false. */
  allowSimulated?: boolean;
}

const UID_HEX = /^(?:[0-9A-F]{2}){4,10}$/;

/**
 * Decides one tap.
 *
 * - A SUN proof is verified under the current read-key version, then the previous one;
 *   the first that verifies gives `keyVersion`. Then its counter must exceed the highest
 *   counter seen for the card (NT4H2421Gx §9.3.3: the card increments it on every read,
 *   so an equal or lower counter is a copied message).
 * - No proof: a plain UID card, a fob or a barcode, accepted only under the venue's
 *   `allowUidOnly` and marked `uid-only` / `hid-fob` on the event.
 */
export function authenticateTap(
  tap: TapRead,
  policy: VenuePolicy,
  deps: CardAuthDeps,
): TapAuthResult {
  if (tap.technology === 'simulated') {
    return deps.allowSimulated
      ? ok(tap.identifier, { method: 'simulated', keyVersion: null, counter: null })
      : refuse('card-not-genuine', 'simulated taps are not accepted by this kiosk');
  }
  if (tap.proof.kind === 'sun') return authenticateSun(tap, tap.proof, deps);
  return authenticateWithoutProof(tap, policy, deps);
}

/** The same decision as an `(tap, venue) => result` function, for the tap pipeline. */
export function cardAuthenticator(
  deps: CardAuthDeps,
): (tap: TapRead, venue: VenuePolicy) => TapAuthResult {
  return (tap, venue) => authenticateTap(tap, venue, deps);
}

/**
 * For an NTAG 424 whose UID has just been read, its SUN check rehearsed while the rest of
 * its read goes on: the message a card of ours sends (PICCData encrypted under the
 * current meta-read key) with a MAC of zeros, checked as a tap's is (decryption, the
 * card's key derivation, the session keys and the MAC), and so refused at its last step.
 * The result is discarded and nothing is kept; the real check, a few milliseconds later,
 * then runs warm (after an idle spell the same code runs several times slower cold).
 */
export function rehearseSunCheck(deps: CardAuthDeps, uidHex: string): void {
  if (!deps.keyRing) return;
  const uid = tryHexToBytes(uidHex, NTAG424_UID_LENGTH);
  if (!uid) return;
  const metaRead = sdmMetaReadKey(deps.keyRing.current.masterKey);
  const piccData = encryptPiccData(metaRead, { uid, counter: 0 });
  metaRead.fill(0);
  const proof: SunProof = {
    kind: 'sun',
    piccData: bytesToHex(piccData),
    cmac: '00'.repeat(SDM_MAC_LENGTH),
  };
  const tap: TapRead = {
    readerName: '',
    technology: 'ntag424',
    identifier: uidHex,
    proof,
    detectedAt: 0,
    apduMs: 0,
  };
  authenticateSun(tap, proof, deps);
}

type SunProof = Extract<CardProof, { kind: 'sun' }>;

/** The SUN proof's bytes, or why they are unusable. */
type ParsedSun =
  | {
      ok: true;
      piccData: Buffer | null;
      uid: Buffer | null;
      counter: number | null;
      cmac: Buffer;
      encFileData: Buffer | undefined;
      macInput: Buffer;
    }
  | { ok: false; reason: string };

function parseSunProof(proof: SunProof): ParsedSun {
  const cmac = tryHexToBytes(proof.cmac, SDM_MAC_LENGTH);
  if (!cmac) return { ok: false, reason: 'SDMMAC is not 8 bytes of hex' };
  let encFileData: Buffer | undefined;
  if (proof.encFileData !== undefined) {
    const enc = tryHexToBytes(proof.encFileData);
    if (!enc || enc.length === 0 || enc.length % 16 !== 0) {
      return { ok: false, reason: 'encrypted file data is not whole 16-byte blocks of hex' };
    }
    encFileData = enc;
  }
  const macInput = Buffer.from(proof.macInput ?? '', 'latin1');
  if (proof.piccData !== undefined) {
    if (proof.uid !== undefined || proof.counter !== undefined) {
      return { ok: false, reason: 'both encrypted PICCData and plain mirrors' };
    }
    const piccData = tryHexToBytes(proof.piccData, PICC_DATA_LENGTH);
    if (!piccData) return { ok: false, reason: 'PICCData is not 16 bytes of hex' };
    return { ok: true, piccData, uid: null, counter: null, cmac, encFileData, macInput };
  }
  const uid = proof.uid === undefined ? null : tryHexToBytes(proof.uid, NTAG424_UID_LENGTH);
  if (!uid) return { ok: false, reason: 'plain UID mirror is not 7 bytes of hex' };
  const counter = proof.counter ?? null;
  if (
    counter === null ||
    !Number.isInteger(counter) ||
    counter < 0 ||
    counter > MAX_SDM_READ_COUNTER
  ) {
    return { ok: false, reason: 'plain counter mirror is missing or not a 24-bit number' };
  }
  return { ok: true, piccData: null, uid, counter, cmac, encFileData, macInput };
}

function authenticateSun(tap: TapRead, proof: SunProof, deps: CardAuthDeps): TapAuthResult {
  if (!deps.keyRing) return refuse('card-not-genuine', 'this kiosk holds no read keys');
  const parsed = parseSunProof(proof);
  if (!parsed.ok) return refuse('card-not-genuine', parsed.reason);

  let lastReason = 'SDMMAC does not verify under any held read-key version';
  for (const version of readKeyVersions(deps.keyRing)) {
    const held = heldReadKeys(version.masterKey);
    let uid = parsed.uid;
    let counter = parsed.counter;
    if (parsed.piccData) {
      const picc = decryptPiccData(held.metaRead, parsed.piccData);
      if (!picc.ok) {
        lastReason = 'PICCData does not decrypt under any held read-key version';
        continue;
      }
      ({ uid, counter } = picc.piccData);
    }
    if (uid === null || counter === null) {
      // Our cards mirror both (docs: the counter is the replay defence); anything else
      // was not personalised by us. Under the wrong version's key, PICCData decrypts to
      // noise whose tag byte says "counter only" one time in sixteen, so this is a reason
      // to try the next version, never a verdict on its own.
      lastReason = 'SUN message without both UID and counter';
      continue;
    }
    const result = verifySun(
      { fileReadKey: sdmFileReadKey(held.master, uid) },
      {
        uid,
        counter,
        cmac: parsed.cmac,
        macInput: parsed.macInput,
        ...(parsed.encFileData ? { encFileData: parsed.encFileData } : {}),
      },
    );
    if (!result.valid) {
      lastReason = 'SDMMAC does not verify under any held read-key version';
      continue;
    }
    return acceptSun(tap, uid, counter, version.version, deps);
  }
  return refuse('card-not-genuine', lastReason);
}

function acceptSun(
  tap: TapRead,
  uid: Bytes,
  counter: number,
  keyVersion: number,
  deps: CardAuthDeps,
): TapAuthResult {
  const uidHex = bytesToHex(uid);
  // The reader saw a 7-byte anticollision UID: it must be the one the SUN vouches for, or
  // a genuine message is being played back by another card. (A 4-byte identifier is a
  // Random ID, which says nothing about the real UID.)
  const seen = tap.identifier.toUpperCase();
  if (seen.length === NTAG424_UID_LENGTH * 2 && seen !== uidHex) {
    return refuse('card-not-genuine', 'the SUN message belongs to a different card');
  }
  const highest = deps.highestCounter(deps.cardHash(uidHex));
  if (highest !== null && counter <= highest) {
    return refuse('card-replayed', 'SUN counter is not above the highest seen for this card');
  }
  return ok(uidHex, { method: 'sun', keyVersion, counter });
}

function authenticateWithoutProof(
  tap: TapRead,
  policy: VenuePolicy,
  deps: CardAuthDeps,
): TapAuthResult {
  const identifier = tap.identifier.trim();
  if (tap.technology === 'hid-fob') {
    if (identifier.length === 0) return refuse('card-not-genuine', 'empty fob identifier');
    return policy.allowUidOnly
      ? ok(identifier, { method: 'hid-fob', keyVersion: null, counter: null })
      : refuse('uid-only-not-allowed', 'fobs and barcodes are not accepted at this venue');
  }
  // A plain UID card — or a secure card that presented no proof, which proves no more.
  const uid = identifier.toUpperCase();
  if (!UID_HEX.test(uid)) return refuse('card-not-genuine', 'UID is not 4-10 bytes of hex');
  if (!policy.allowUidOnly) {
    return refuse('uid-only-not-allowed', 'UID-only cards are not accepted at this venue');
  }
  if (deps.requiresProof?.(deps.cardHash(uid))) {
    return refuse('card-not-genuine', 'a secure card was presented without its proof');
  }
  return ok(uid, { method: 'uid-only', keyVersion: null, counter: null });
}

function ok(uid: string, auth: CardAuth): TapAuthResult {
  return { ok: true, uid, auth };
}

function refuse(code: CardAuthErrorCode, reason: string): TapAuthResult {
  return { ok: false, code, reason };
}
