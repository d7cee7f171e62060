import {
  AppError,
  ErrorBodySchema,
  PROTOCOL_VERSION,
  RegisterKioskResponseSchema,
  generateSigningKeys,
} from '@clubcard/shared';
import type { KioskIdentity, KioskStore } from '../store/kiosk-store.js';
import type { FetchFn } from './sync-client.js';

/**
 * First start: generate this kiosk's Ed25519 key pair, register the public key with the
 * one-time code, and keep the identity in the kiosk store. The private key never leaves
 * the kiosk.
 */
export async function provisionKiosk(
  store: KioskStore,
  backendUrl: string,
  code: string,
  fetchFn: FetchFn = fetch,
): Promise<KioskIdentity> {
  const existing = store.identity();
  if (existing) return existing;
  const keys = generateSigningKeys();
  let res: Response;
  try {
    res = await fetchFn(`${backendUrl.replace(/\/$/, '')}/api/v1/kiosks/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protocol: PROTOCOL_VERSION, code, publicKey: keys.publicKey }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    throw new AppError('backend-unreachable', 'backend did not answer the registration', {
      cause: e,
    });
  }
  const text = await res.text();
  if (!res.ok) {
    const body = ErrorBodySchema.safeParse(JSON.parse(text || '{}'));
    if (body.success) throw AppError.fromBody(body.data, res.status);
    throw new AppError('backend-unreachable', `registration failed with HTTP ${res.status}`);
  }
  const r = RegisterKioskResponseSchema.parse(JSON.parse(text));
  const identity: KioskIdentity = {
    kioskId: r.kioskId,
    venueId: r.venueId,
    serviceId: r.serviceId,
    privateKey: keys.privateKey,
    backendPublicKey: r.backendPublicKey,
    cardHashKey: r.cardHashKey,
  };
  store.setIdentity(identity);
  return identity;
}
