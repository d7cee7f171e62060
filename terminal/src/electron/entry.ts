// The Electron entry point (run by the electron binary, never by plain Node). The kiosk
// core runs in the main process; native modules must be rebuilt for Electron's ABI when
// packaging. Where no Electron binary exists, `npm start` serves the same UI to a browser.
import { app, BrowserWindow, ipcMain } from 'electron';
import { fileURLToPath } from 'node:url';
import { loadKioskConfig } from '../config.js';
import { startKiosk } from '../main.js';
import { startShell, type AppLike, type BrowserWindowCtor, type WindowLike } from './shell.js';

const config = loadKioskConfig({ env: process.env });
const kiosk = await startKiosk(config);
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
  core: kiosk.core,
  uiUrl: kiosk.uiUrl,
  preloadPath: fileURLToPath(new URL('./preload.js', import.meta.url)),
  kiosk: true,
}).then((w: WindowLike | null) => {
  if (!w) void kiosk.close();
});
