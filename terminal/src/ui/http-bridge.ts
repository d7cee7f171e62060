import {
  CoreMessageSchema,
  KioskStateSchema,
  type CoreMessage,
  type KioskBridge,
  type KioskState,
} from '../bridge/kiosk-bridge.js';

/**
 * The browser kiosk's bridge to the kiosk core: same contract as the Electron preload,
 * over the local UI server (fetch + server-sent events). Every message is validated.
 */
export function httpBridge(base = ''): KioskBridge {
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
  };
}
