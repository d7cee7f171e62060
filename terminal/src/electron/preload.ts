// Runs in the sandboxed preload: exposes exactly the KioskBridge, nothing generic. Every
// answer from the main process is parsed again here before the page sees it.
import { contextBridge, ipcRenderer } from 'electron';
import { z } from 'zod';
import {
  BridgeResultSchema,
  CoreMessageSchema,
  IPC,
  KioskStateSchema,
  RejectedEventViewSchema,
  ResidentSummarySchema,
  type KioskBridge,
} from '../bridge/kiosk-bridge.js';

const result = async (channel: string, arg?: unknown) =>
  BridgeResultSchema.parse(await ipcRenderer.invoke(channel, arg));

const bridge = {
  async getState() {
    return KioskStateSchema.parse(await ipcRenderer.invoke(IPC.getState));
  },
  onMessage(cb) {
    const listener = (_e: unknown, m: unknown): void => {
      const parsed = CoreMessageSchema.safeParse(m);
      if (parsed.success) cb(parsed.data);
    };
    ipcRenderer.on(IPC.message, listener);
    return () => {
      ipcRenderer.removeListener(IPC.message, listener);
    };
  },
  async syncNow() {
    await ipcRenderer.invoke(IPC.syncNow);
  },
  setLanguage: (req) => result(IPC.setLanguage, req),
  redeem: (req) => result(IPC.redeem, req),
  cancelRedemption: () => result(IPC.cancelRedemption),
  staffPin: (req) => result(IPC.staffPin, req),
  staffSignOut: () => result(IPC.staffSignOut),
  staffExtend: () => result(IPC.staffExtend),
  approve: (req) => result(IPC.approve, req),
  async rejectedEvents() {
    return z.array(RejectedEventViewSchema).parse(await ipcRenderer.invoke(IPC.rejectedEvents));
  },
  async staffLookup(req) {
    return z.array(ResidentSummarySchema).parse(await ipcRenderer.invoke(IPC.staffLookup, req));
  },
  staffRecordVisit: (req) => result(IPC.staffRecordVisit, req),
  staffConsent: (req) => result(IPC.staffConsent, req),
  staffCard: (req) => result(IPC.staffCard, req),
} satisfies KioskBridge;

contextBridge.exposeInMainWorld('kiosk', bridge);
