import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface UiAssets {
  html: string;
  js: string;
  css: string;
}

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));

/**
 * Bundles the kiosk UI (TypeScript) in memory at start-up, so `npm start` needs no
 * build step. The Electron shell and the browser kiosk load the same assets.
 */
export async function bundleUi(): Promise<UiAssets> {
  const out = await build({
    entryPoints: [`${UI_DIR}main.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: false,
    sourcemap: false,
    logLevel: 'silent',
  });
  const js = out.outputFiles[0]?.text ?? '';
  const [html, css] = await Promise.all([
    readFile(`${UI_DIR}index.html`, 'utf8'),
    readFile(`${UI_DIR}styles.css`, 'utf8'),
  ]);
  return { html, js, css };
}
