import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';
import type { CardHash } from './ids.js';

/**
 * Request signing for kiosk → backend calls (Ed25519, node:crypto). The signature
 * covers method, path (with query), body hash, timestamp and nonce, so a request
 * cannot be replayed, retargeted or altered.
 */
export const SIGNATURE_SCHEME = 'CLUBCARD-V1';

export const HEADER = {
  kiosk: 'x-clubcard-kiosk',
  timestamp: 'x-clubcard-timestamp',
  nonce: 'x-clubcard-nonce',
  signature: 'x-clubcard-signature',
} as const;

export const SignedHeadersSchema = z.object({
  kiosk: z.string().min(1).max(80),
  timestamp: z.string().regex(/^\d{10,16}$/),
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  signature: z.string().regex(/^[A-Za-z0-9+/=]{40,200}$/),
});
export type SignedHeaders = z.infer<typeof SignedHeadersSchema>;

export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export function canonicalRequest(
  method: string,
  path: string,
  bodySha256: string,
  timestamp: string,
  nonce: string,
): string {
  return [SIGNATURE_SCHEME, method.toUpperCase(), path, bodySha256, timestamp, nonce].join('\n');
}

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

export interface KeyPairB64 {
  publicKey: string;
  privateKey: string;
}

/** A fresh Ed25519 key pair, DER-encoded (SPKI / PKCS#8) as base64. */
export function generateSigningKeys(): KeyPairB64 {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
  };
}

export function privateKeyFromB64(b64: string): KeyObject {
  return createPrivateKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'pkcs8' });
}

export function publicKeyFromB64(b64: string): KeyObject {
  const key = createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
  return key;
}

export function signBytes(key: KeyObject, data: string | Uint8Array): string {
  return sign(null, typeof data === 'string' ? Buffer.from(data) : data, key).toString('base64');
}

export function verifyBytes(
  key: KeyObject,
  data: string | Uint8Array,
  signatureB64: string,
): boolean {
  try {
    return verify(
      null,
      typeof data === 'string' ? Buffer.from(data) : data,
      key,
      Buffer.from(signatureB64, 'base64'),
    );
  } catch {
    return false;
  }
}

/** Headers for one signed request. Each call gets a fresh nonce. */
export function signRequest(
  key: KeyObject,
  kioskId: string,
  method: string,
  path: string,
  body: string,
  now: number = Date.now(),
): Record<string, string> {
  const timestamp = String(now);
  const nonce = newNonce();
  const signature = signBytes(
    key,
    canonicalRequest(method, path, sha256Hex(body), timestamp, nonce),
  );
  return {
    [HEADER.kiosk]: kioskId,
    [HEADER.timestamp]: timestamp,
    [HEADER.nonce]: nonce,
    [HEADER.signature]: signature,
  };
}

/**
 * Card hash: HMAC-SHA256 of the UID bytes under the council card-hash key. Kiosks and
 * the backend store this, never the raw UID.
 */
export function cardHashOf(cardHashKeyHex: string, uidHex: string): CardHash {
  const last = lastCardHash;
  if (last !== null && last.uid === uidHex && last.key === cardHashKeyHex) return last.hash;
  if (!/^([0-9a-fA-F]{2}){4,10}$/.test(uidHex)) throw new Error('UID must be 4 to 10 bytes of hex');
  const hash = createHmac('sha256', Buffer.from(cardHashKeyHex, 'hex'))
    .update(Buffer.from(uidHex, 'hex'))
    .digest('hex') as CardHash;
  lastCardHash = { key: cardHashKeyHex, uid: uidHex, hash };
  return hash;
}

/**
 * The last card hash computed. A kiosk tap asks for the same one twice (to authenticate
 * the card, then to resolve it): one HMAC serves both. Held in memory only, like the UID
 * the reader has just read.
 */
let lastCardHash: { key: string; uid: string; hash: CardHash } | null = null;
