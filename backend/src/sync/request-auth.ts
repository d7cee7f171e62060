import {
  AppError,
  HEADER,
  SignedHeadersSchema,
  canonicalRequest,
  publicKeyFromB64,
  sha256Hex,
  verifyBytes,
} from '@clubcard/shared';
import type { IncomingHttpHeaders } from 'node:http';
import type { BackendStore, KioskRow } from '../store/repository.js';

export interface SignedRequest {
  method: string;
  /** Path with query string, exactly as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Verifies a kiosk-signed request (Ed25519 over method, path, body hash, timestamp and
 * nonce). Order matters: the signature is checked before the nonce is remembered, so a
 * forger cannot burn a kiosk's nonces; the nonce is remembered before anything is
 * stored, so a byte-identical replay is refused and changes nothing.
 */
export function verifySignedRequest(
  store: BackendStore,
  req: SignedRequest,
  now: number,
  maxSkewMs: number,
): KioskRow {
  const parsed = SignedHeadersSchema.safeParse({
    kiosk: header(req.headers, HEADER.kiosk),
    timestamp: header(req.headers, HEADER.timestamp),
    nonce: header(req.headers, HEADER.nonce),
    signature: header(req.headers, HEADER.signature),
  });
  if (!parsed.success) {
    throw new AppError('bad-signature', 'missing or malformed signature headers');
  }
  const h = parsed.data;
  const kiosk = store.getKiosk(h.kiosk);
  if (!kiosk || !kiosk.publicKey) throw new AppError('unknown-kiosk', 'kiosk is not registered');
  if (kiosk.status === 'revoked') throw new AppError('kiosk-revoked', 'kiosk has been revoked');
  const ok = verifyBytes(
    publicKeyFromB64(kiosk.publicKey),
    canonicalRequest(req.method, req.path, sha256Hex(req.body), h.timestamp, h.nonce),
    h.signature,
  );
  if (!ok) throw new AppError('bad-signature', 'request signature does not verify');
  const ts = Number(h.timestamp);
  if (Math.abs(ts - now) > maxSkewMs) {
    throw new AppError('clock-skew', 'request timestamp too far from the backend clock', {
      details: { serverTime: now },
    });
  }
  if (!store.rememberNonce(kiosk.id, h.nonce, now)) {
    throw new AppError('replayed-request', 'this request has been seen before');
  }
  return kiosk;
}
