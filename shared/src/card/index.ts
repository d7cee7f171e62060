/**
 * Card cryptography for NTAG 424 DNA (and DESFire EV2/EV3, which share the EV2 scheme):
 * pure functions over bytes, node:crypto only. Inputs are Uint8Array (Buffers welcome);
 * outputs are Buffers. Bad card data never throws: it comes back as a result with
 * `ok: false` / `valid: false` and a reason. Wrong key sizes and other caller mistakes
 * throw RangeError / TypeError.
 *
 * - `aes-cmac`      AES-CMAC (RFC 4493), its subkeys, NXP's 8-byte truncation.
 * - `sun`           SUN / SDM: verifySun (kiosk, CLI) and generateSun (card emulator), plus
 *                   the pieces: decrypt/encryptPiccData, sdmSessionKeys, computeSdmMac,
 *                   encrypt/decryptSdmFileData.
 * - `diversify`     diversifyAes128Key: per-card keys from a master key (AN10922).
 * - `ev2`           AuthenticateEV2First, PCD side (ev2FirstPcdAnswer → ev2FirstPcdFinish)
 *                   and PICC side (ev2FirstPiccChallenge → ev2FirstPiccFinish), giving an
 *                   immutable Ev2Session.
 * - `ev2-messaging` secure messaging on that session: PCD buildSecureCommand /
 *                   openSecureResponse, PICC openSecureCommand / buildSecureResponse;
 *                   native APDU wrapping.
 * - `ev2-commands`  ChangeKey and ChangeFileSettings (SDM): PCD builders, PICC parsers.
 * - `bytes`, `ct`   hex and counter helpers; constant-time comparison.
 */
export * from './bytes.js';
export * from './ct.js';
// ZERO_IV stays internal: a shared mutable Buffer must not be handed out.
export {
  AES_BLOCK_SIZE,
  AES_KEY_SIZE,
  Aes128,
  aesCbcDecrypt,
  aesCbcEncrypt,
  aesEcbEncrypt,
} from './aes.js';
export * from './aes-cmac.js';
export * from './sun.js';
export * from './diversify.js';
export * from './ev2.js';
export * from './ev2-messaging.js';
export * from './ev2-commands.js';
