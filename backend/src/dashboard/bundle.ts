import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface DashboardAssets {
  html: string;
  js: string;
  css: string;
}

const CLIENT_DIR = fileURLToPath(new URL('./client/', import.meta.url));

/**
 * Bundles the dashboard client (TypeScript and Chart.js) in memory, as the kiosk UI
 * does, so the backend needs no build step and serves everything from its own origin.
 */
export async function bundleDashboard(): Promise<DashboardAssets> {
  const out = await build({
    entryPoints: [`${CLIENT_DIR}main.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    logLevel: 'silent',
  });
  const js = out.outputFiles[0]?.text ?? '';
  const [html, css] = await Promise.all([
    readFile(`${CLIENT_DIR}index.html`, 'utf8'),
    readFile(`${CLIENT_DIR}styles.css`, 'utf8'),
  ]);
  return { html, js, css };
}
