import { type KioskBridge } from '../bridge/kiosk-bridge.js';
/**
 * The browser kiosk's bridge to the kiosk core: same contract as the Electron preload,
 * over the local UI server (fetch + server-sent events). Every message is validated.
 */
export declare function httpBridge(base?: string): KioskBridge;
