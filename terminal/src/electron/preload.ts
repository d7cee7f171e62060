// Runs in the sandboxed preload: exposes exactly the KioskBridge, nothing generic.
import { contextBridge, ipcRenderer } from 'electron';
import {
  CoreMessageSchema,
  IPC,
  KioskStateSchema,
  type KioskBridge,
} from '../bridge/kiosk-bridge.js';

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
} satisfies KioskBridge;

contextBridge.exposeInMainWorld('kiosk', bridge);
