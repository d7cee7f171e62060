import { Aes128, type Bytes, diversifyAes128Key, hexToBytes } from '@clubcard/shared';
import { z } from 'zod';

/**
 * Which keys a Clubcard NTAG 424 DNA carries, and how each is derived (NXP AN10922 §2.2
 * AES-128 diversification). Two separate key sets, per docs/architecture.md "Keys and
 * where they live":
 *
 * - READ keys: the council read master of a key version. Kiosks hold the current and the
 *   previous version (a {@link ReadKeyRing}) to verify SUN taps offline.
 * - ISSUING keys: the issuing master, from which each card's application master key (and
 *   its unused key slots) are derived. Only enrolment desks and the back office hold it,
 *   never an unattended kiosk: with it, a card can be re-keyed or re-configured.
 *
 * Diversification inputs (M = [UID ‖] system identifier; no AID, as the NTAG 424 DNA NDEF
 * application has no 3-byte DESFire AID):
 *
 * | card key | key no | master | UID in M | system identifier |
 * |---|---|---|---|---|
 * | application master key | 0 | issuing | yes | `PSC-APP-MASTER` |
 * | K_SDMFileRead (SDMMAC, file data; also SDMCtrRet) | 1 | read | yes | `PSC-SDM-FILE-READ` |
 * | K_SDMMetaRead (PICCData) | 2 | read | NO | `PSC-SDM-META-READ` |
 * | spare | 3 | issuing | yes | `PSC-SPARE-3` |
 * | spare | 4 | issuing | yes | `PSC-SPARE-4` |
 *
 * K_SDMMetaRead is deliberately NOT diversified with the UID: the UID is inside the
 * encrypted PICCData, so a verifier cannot know it before decrypting (AN12196 §3.4.2 uses
 * one meta-read key for that reason). Diversifying it with the reader-visible anticollision
 * UID would instead break with Random ID and put the UID outside the encryption that
 * exists to hide it. So it is one key per read-key version, derived rather than the master
 * itself so the master never sits on a card. Losing it exposes UIDs and counters of that
 * version's taps (privacy), not the ability to forge them: every SDMMAC is under the
 * per-card K_SDMFileRead. Keys 3 and 4 are never left at the factory default, so no
 * access condition can be met with an all-zero key.
 */

export const CARD_KEY_NO = {
  appMaster: 0,
  sdmFileRead: 1,
  sdmMetaRead: 2,
  spare3: 3,
  spare4: 4,
} as const;

export const DIVERSIFICATION_SYSTEM_IDS = {
  appMaster: 'PSC-APP-MASTER',
  sdmFileRead: 'PSC-SDM-FILE-READ',
  sdmMetaRead: 'PSC-SDM-META-READ',
  spare3: 'PSC-SPARE-3',
  spare4: 'PSC-SPARE-4',
} as const;

/** One version of the council read master key. */
export interface ReadKeyVersion {
  /** Key version, 0-255: written as KeyVer with the card's read keys and on events. */
  version: number;
  masterKey: Bytes;
}

/** What a kiosk holds: the current read-key version and, during a rotation, the previous. */
export interface ReadKeyRing {
  current: ReadKeyVersion;
  previous?: ReadKeyVersion | null;
}

const KeyVersionSchema = z.number().int().min(0).max(255);
const KeyHexSchema = z.string().regex(/^[0-9a-fA-F]{32}$/, 'a key is 32 hex digits (AES-128)');

/** Key-ring configuration as the kiosk config holds it (keys in hex). */
export const ReadKeyRingConfigSchema = z
  .object({
    current: z.object({ version: KeyVersionSchema, masterKeyHex: KeyHexSchema }),
    previous: z.object({ version: KeyVersionSchema, masterKeyHex: KeyHexSchema }).nullish(),
  })
  .refine((r) => !r.previous || r.previous.version !== r.current.version, {
    message: 'the previous read-key version must differ from the current one',
  });
export type ReadKeyRingConfig = z.infer<typeof ReadKeyRingConfigSchema>;

export function readKeyRingFromConfig(config: ReadKeyRingConfig): ReadKeyRing {
  const parsed = ReadKeyRingConfigSchema.parse(config);
  const version = (v: { version: number; masterKeyHex: string }): ReadKeyVersion => ({
    version: v.version,
    masterKey: hexToBytes(v.masterKeyHex, 'read master key', 16),
  });
  return {
    current: version(parsed.current),
    previous: parsed.previous ? version(parsed.previous) : null,
  };
}

/** The versions to try for a tap, current first (docs/architecture.md: keys are rotated). */
export function readKeyVersions(ring: ReadKeyRing): ReadKeyVersion[] {
  return ring.previous ? [ring.current, ring.previous] : [ring.current];
}

/** K_SDMMetaRead per read master key (held as long as the key ring holds the master). */
const metaReadKeys = new WeakMap<Bytes, { master: string; key: Buffer }>();

/**
 * K_SDMMetaRead of a read-key version (the same for every card of that version): derived
 * once per master key, not on every tap. A copy is returned, so no caller can alter it.
 */
export function sdmMetaReadKey(readMasterKey: Bytes): Buffer {
  const master = Buffer.from(readMasterKey).toString('hex');
  let held = metaReadKeys.get(readMasterKey);
  if (held?.master !== master) {
    const key = diversifyAes128Key(readMasterKey, {
      systemIdentifier: DIVERSIFICATION_SYSTEM_IDS.sdmMetaRead,
    });
    held = { master, key };
    metaReadKeys.set(readMasterKey, held);
  }
  return Buffer.from(held.key);
}

/** The AES contexts of one read master key, held while the key ring holds the key. */
export interface HeldReadKeys {
  /** The read master itself, from which each card's K_SDMFileRead is derived. */
  master: Aes128;
  /** K_SDMMetaRead of this version (the same for every card). */
  metaRead: Aes128;
}

const heldReadKeysOf = new WeakMap<Bytes, HeldReadKeys>();

/**
 * A read master key's contexts, made on its first tap and kept: a tap then makes AES
 * contexts only for its own card's keys. Re-made if the bytes were changed in place.
 */
export function heldReadKeys(readMasterKey: Bytes): HeldReadKeys {
  let held = heldReadKeysOf.get(readMasterKey);
  if (!held?.master.holds(readMasterKey)) {
    held = {
      master: new Aes128(readMasterKey),
      metaRead: new Aes128(sdmMetaReadKey(readMasterKey)),
    };
    heldReadKeysOf.set(readMasterKey, held);
  }
  return held;
}

/** K_SDMFileRead of one card (7-byte UID). */
export function sdmFileReadKey(readMasterKey: Bytes | Aes128, uid: Bytes): Buffer {
  return diversifyAes128Key(readMasterKey, {
    uid,
    systemIdentifier: DIVERSIFICATION_SYSTEM_IDS.sdmFileRead,
  });
}

/**
 * An enrolment desk's issuing master as its config holds it (hex). Never on an
 * unattended kiosk: the kiosk config refuses it unless the kiosk is an enrolment desk.
 */
export const IssuingKeyConfigSchema = z
  .object({ version: KeyVersionSchema, masterKeyHex: KeyHexSchema })
  .strict();
export type IssuingKeyConfig = z.infer<typeof IssuingKeyConfigSchema>;

/** The issuing key set of an enrolment desk (never configured on an unattended kiosk). */
export interface IssuingKeys {
  /** Version of the issuing master: KeyVer of keys 0, 3 and 4. */
  issuingKeyVersion: number;
  /** Issuing master: the card's application master key and spare keys derive from it. */
  issuingMasterKey: Bytes;
  /** The read-key version new cards are enrolled under: KeyVer of keys 1 and 2. */
  readKeyVersion: number;
  /** The read master of that version, for the SDM read keys the desk writes. */
  readMasterKey: Bytes;
}

/** One key to write with ChangeKey. */
export interface CardKey {
  keyNo: number;
  key: Buffer;
  /** KeyVer written with the key. */
  version: number;
}

export interface IssuedCardKeys {
  appMaster: CardKey;
  sdmFileRead: CardKey;
  sdmMetaRead: CardKey;
  spare3: CardKey;
  spare4: CardKey;
  /**
   * All five in the order to send ChangeKey: keys 1-4 first, while the session key (0)
   * still authenticates the session; key 0 last, as changing it ends the session
   * (NT4H2421Gx §10.6.1).
   */
  changeOrder: CardKey[];
}

/** The per-card keys an enrolment desk writes to a new card with this UID. */
export function deriveIssuedCardKeys(issuing: IssuingKeys, uid: Bytes): IssuedCardKeys {
  for (const v of [issuing.issuingKeyVersion, issuing.readKeyVersion]) {
    KeyVersionSchema.parse(v);
  }
  const issued = (name: 'appMaster' | 'spare3' | 'spare4'): CardKey => ({
    keyNo: CARD_KEY_NO[name],
    key: diversifyAes128Key(issuing.issuingMasterKey, {
      uid,
      systemIdentifier: DIVERSIFICATION_SYSTEM_IDS[name],
    }),
    version: issuing.issuingKeyVersion,
  });
  const appMaster = issued('appMaster');
  const spare3 = issued('spare3');
  const spare4 = issued('spare4');
  const sdmFileRead: CardKey = {
    keyNo: CARD_KEY_NO.sdmFileRead,
    key: sdmFileReadKey(issuing.readMasterKey, uid),
    version: issuing.readKeyVersion,
  };
  const sdmMetaRead: CardKey = {
    keyNo: CARD_KEY_NO.sdmMetaRead,
    key: sdmMetaReadKey(issuing.readMasterKey),
    version: issuing.readKeyVersion,
  };
  return {
    appMaster,
    sdmFileRead,
    sdmMetaRead,
    spare3,
    spare4,
    changeOrder: [sdmFileRead, sdmMetaRead, spare3, spare4, appMaster],
  };
}
