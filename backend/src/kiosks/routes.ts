import express, { Router } from 'express';
import {
  AppError,
  RegisterKioskRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  publicKeyFromB64,
  type RegisterKioskResponse,
} from '@clubcard/shared';
import { hashProvisioningCode, type BackendSecrets } from '../keys.js';
import type { BackendStore } from '../store/repository.js';

/**
 * Kiosk provisioning: a kiosk created by an admin gets a one-time code; on first start
 * it generates an Ed25519 key pair and registers its public key with the code. The
 * code then stops working.
 */
export function kioskRouter(deps: {
  store: BackendStore;
  secrets: BackendSecrets;
  now: () => number;
}): Router {
  const r = Router();
  r.post('/api/v1/kiosks/register', express.json({ limit: '4kb' }), (req, res) => {
    const body = RegisterKioskRequestSchema.parse(req.body);
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(body.protocol)) {
      throw new AppError('unsupported-protocol', `protocol ${body.protocol} is not supported`);
    }
    try {
      publicKeyFromB64(body.publicKey);
    } catch {
      throw new AppError('validation-failed', 'publicKey is not an Ed25519 SPKI key');
    }
    const now = deps.now();
    const out = deps.store.transaction((): RegisterKioskResponse => {
      const k = deps.store.findPendingKioskByCodeHash(hashProvisioningCode(body.code));
      if (!k || (k.codeExpiresAt !== null && k.codeExpiresAt < now)) {
        throw new AppError(
          'invalid-provisioning-code',
          'provisioning code is unknown, used or expired',
        );
      }
      deps.store.activateKiosk(k.id, body.publicKey, now);
      return {
        kioskId: k.id,
        venueId: k.venueId,
        serviceId: k.serviceId,
        backendPublicKey: deps.secrets.publicKeyB64,
        cardHashKey: deps.secrets.cardHashKey,
      };
    });
    res.status(201).json(out);
  });
  return r;
}
