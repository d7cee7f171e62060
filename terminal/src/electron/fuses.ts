import type { Configuration } from 'electron-builder';

/**
 * Every Electron fuse, set explicitly for the packaged kiosk. Typed as Required<…> (as
 * Element Desktop does) so a fuse added to Electron cannot be forgotten: the type check
 * fails until it is decided here. packaging/electron-builder.json carries the same
 * values (a test keeps them equal); electron-builder flips them when it packages.
 */
export type ElectronFuses = Required<NonNullable<Configuration['electronFuses']>>;

export const KIOSK_FUSES: ElectronFuses = {
  // ELECTRON_RUN_AS_NODE would turn the kiosk binary into a general Node.js.
  runAsNode: false,
  enableCookieEncryption: true,
  // NODE_OPTIONS / NODE_EXTRA_CA_CERTS could inject code or trust into the main process.
  enableNodeOptionsEnvironmentVariable: false,
  // --inspect and SIGUSR1 would open a debugger into the process holding the keys.
  enableNodeCliInspectArguments: false,
  // Load only the packaged app.asar, and check its integrity where Electron can.
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  loadBrowserProcessSpecificV8Snapshot: false,
  // The UI comes from app://, so file:// needs no extra powers.
  grantFileProtocolExtraPrivileges: false,
  // Linux kiosk: no macOS ad-hoc signature to reset.
  resetAdHocDarwinSignature: false,
};
