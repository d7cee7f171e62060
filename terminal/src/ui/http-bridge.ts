import { z } from 'zod';
import {
  BridgeResultSchema,
  CoreMessageSchema,
  KioskStateSchema,
  RejectedEventViewSchema,
  ResidentSummarySchema,
  type BridgeResult,
  type CoreMessage,
  type KioskBridge,
  type KioskState,
} from '../bridge/kiosk-bridge.js';

/**
 * The browser kiosk's bridge to the kiosk core: same contract as the Electron preload,
 * over the local UI server (fetch + server-sent events). Every message is validated.
 */
export function httpBridge(base = ''): KioskBridge {
  const post = async (path: string, body: unknown = {}): Promise<BridgeResult> => {
    try {
      const r = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const parsed = BridgeResultSchema.safeParse(await r.json());
      return parsed.success ? parsed.data : { ok: false, code: 'internal' };
    } catch {
      return { ok: false, code: 'internal' };
    }
  };
  return {
    async getState(): Promise<KioskState> {
      const r = await fetch(`${base}/api/state`);
      return KioskStateSchema.parse(await r.json());
    },
    onMessage(cb: (m: CoreMessage) => void): () => void {
      const es = new EventSource(`${base}/api/events`);
      es.onmessage = (ev: MessageEvent<string>) => {
        const parsed = CoreMessageSchema.safeParse(JSON.parse(ev.data));
        if (parsed.success) cb(parsed.data);
      };
      return () => es.close();
    },
    async syncNow(): Promise<void> {
      await fetch(`${base}/api/sync-now`, { method: 'POST' });
    },
    setLanguage: (req) => post('/api/language', req),
    redeem: (req) => post('/api/redeem', req),
    cancelRedemption: () => post('/api/redeem/cancel'),
    staffPin: (req) => post('/api/staff/pin', req),
    staffSignOut: () => post('/api/staff/sign-out'),
    staffExtend: () => post('/api/staff/extend'),
    approve: (req) => post('/api/staff/approve', req),
    async rejectedEvents() {
      const r = await fetch(`${base}/api/staff/rejected`);
      if (!r.ok) return [];
      return z.array(RejectedEventViewSchema).parse(await r.json());
    },
    async staffLookup(req) {
      try {
        const r = await fetch(`${base}/api/staff/lookup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(req),
        });
        const parsed = z.array(ResidentSummarySchema).safeParse(await r.json());
        return parsed.success ? parsed.data : [];
      } catch {
        return [];
      }
    },
    staffRecordVisit: (req) => post('/api/staff/record-visit', req),
    staffConsent: (req) => post('/api/staff/consent', req),
    staffCard: (req) => post('/api/staff/card', req),
  };
}
