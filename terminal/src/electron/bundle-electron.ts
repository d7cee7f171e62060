import { build } from 'esbuild';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleUi } from '../server/ui-bundle.js';

/**
 * Bundles the Electron main process and preload into terminal/dist/electron/ for
 * electron-builder (packaging/electron-builder.json). The preload is CommonJS: a
 * sandboxed preload cannot load ES modules. Native modules and Electron stay external
 * (electron-builder rebuilds the native ones for Electron's ABI). The UI is bundled
 * ahead of time into ui-assets.json, and the kiosk store's migrations are copied beside
 * the bundle, where the bundled code looks for them.
 */
const TERMINAL = fileURLToPath(new URL('../../', import.meta.url));
const EXTERNAL = ['electron', 'better-sqlite3', '@pokusew/pcsclite', 'node-hid', 'esbuild', 'pino'];

export async function bundleElectron(outDir = `${TERMINAL}dist/electron`): Promise<void> {
  await build({
    entryPoints: [`${TERMINAL}src/electron/entry.ts`],
    outfile: `${outDir}/entry.js`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    logLevel: 'warning',
  });
  await build({
    entryPoints: [`${TERMINAL}src/electron/preload.ts`],
    outfile: `${outDir}/preload.js`,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['electron'],
    logLevel: 'warning',
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(`${outDir}/ui-assets.json`, JSON.stringify(await bundleUi()));
  cpSync(`${TERMINAL}src/store/migrations`, `${outDir}/migrations`, { recursive: true });
}

if (import.meta.url === `file://${process.argv[1]}`) await bundleElectron();
