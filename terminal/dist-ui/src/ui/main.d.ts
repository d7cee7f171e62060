import type { KioskBridge } from '../bridge/kiosk-bridge.js';
declare global {
    interface Window {
        /** Present when running inside the Electron shell (from the preload). */
        kiosk?: KioskBridge;
    }
}
