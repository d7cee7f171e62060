// The Electron entry point (run by the electron binary, never by plain Node). The kiosk
// core runs in the main process; native modules must be rebuilt for Electron's ABI when
// packaging (electron-builder's npmRebuild). Where no Electron binary exists, `npm start`
// serves the same UI to a browser.
import { app, BrowserWindow, ipcMain, protocol } from 'electron';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadKioskConfig } from '../config.js';
import { startKiosk } from '../main.js';
import { bundleUi, type UiAssets } from '../server/ui-bundle.js';
import { registerAppScheme, type ProtocolLike } from './app-protocol.js';
import { startShell, type AppLike, type BrowserWindowCtor, type WindowLike } from './shell.js';

// Must happen before the app is ready: app:// is a standard, secure scheme.
registerAppScheme(protocol as unknown as ProtocolLike);

/** Packaged: the UI bundled ahead of time (bundle-electron.ts); in development: now. */
async function uiAssets(): Promise<UiAssets> {
  const prebuilt = fileURLToPath(new URL('./ui-assets.json', import.meta.url));
  return existsSync(prebuilt)
    ? (JSON.parse(readFileSync(prebuilt, 'utf8')) as UiAssets)
    : await bundleUi();
}

const config = loadKioskConfig({ env: process.env });
const kiosk = await startKiosk(config);
// The screen services as the composition root wired them (redemption, staff desk, the
// tap pipeline's staff cards): the window and the browser kiosk see the same ones.
const services = kiosk.services;
await startShell({
  app: app as unknown as AppLike,
  BrowserWindow: BrowserWindow as unknown as BrowserWindowCtor,
  ipcMain: {
    handle: (channel, listener) =>
      ipcMain.handle(channel, (event, ...args) =>
        listener(
          {
            sender: event.sender,
            senderFrame: event.senderFrame ? { url: event.senderFrame.url } : null,
          },
          ...args,
        ),
      ),
  },
  core: services,
  protocol: protocol as unknown as ProtocolLike,
  assets: await uiAssets(),
  preloadPath: fileURLToPath(new URL('./preload.js', import.meta.url)),
  kiosk: true,
}).then((w: WindowLike | null) => {
  if (!w) {
    void kiosk.close();
  }
});
