import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { generateSigningKeys, privateKeyFromB64 } from '@clubcard/shared';
import type { BackendStore } from './store/repository.js';

export interface BackendSecrets {
  /** Signs pull pages and push answers. */
  signingKey: KeyObject;
  publicKeyB64: string;
  /** Council key for HMAC card hashes (hex). */
  cardHashKey: string;
}

/**
 * The backend's own secrets, created on first start and kept in the database.
 * (A council with an HSM would keep them there instead; the rest of the code only
 * sees this object.)
 */
export function ensureBackendSecrets(store: BackendStore): BackendSecrets {
  return store.transaction(() => {
    let priv = store.getSetting('backend.signing.private');
    let pub = store.getSetting('backend.signing.public');
    if (!priv || !pub) {
      const keys = generateSigningKeys();
      priv = keys.privateKey;
      pub = keys.publicKey;
      store.setSetting('backend.signing.private', priv);
      store.setSetting('backend.signing.public', pub);
    }
    let cardHashKey = store.getSetting('council.card-hash-key');
    if (!cardHashKey) {
      cardHashKey = randomBytes(32).toString('hex');
      store.setSetting('council.card-hash-key', cardHashKey);
    }
    return { signingKey: privateKeyFromB64(priv), publicKeyB64: pub, cardHashKey };
  });
}

export function hashProvisioningCode(code: string): string {
  return createHash('sha256').update(`clubcard-provisioning:${code}`).digest('hex');
}

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A one-time kiosk provisioning code, XXXX-XXXX-XXXX (no 0/O/1/I). */
export function newProvisioningCode(): string {
  const bytes = randomBytes(12);
  let s = '';
  for (let i = 0; i < 12; i++) {
    s += CODE_ALPHABET[(bytes[i] ?? 0) % CODE_ALPHABET.length];
    if (i === 3 || i === 7) s += '-';
  }
  return s;
}
