import { Router, type Response } from 'express';
import { bundleDashboard, type DashboardAssets } from './bundle.js';

/** Nothing inline, nothing from elsewhere: the page's script and styles come from here. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The council dashboard page. The page itself holds no figures: it signs the operator
 * in through the auth API and reads everything from the analytics API, which refuses
 * anyone who is not an analyst or admin. Assets are bundled on first request.
 */
export function dashboardRouter(load: () => Promise<DashboardAssets> = bundleDashboard): Router {
  const r = Router();
  let assets: Promise<DashboardAssets> | null = null;
  const get = (): Promise<DashboardAssets> => {
    assets ??= load().catch((e: unknown) => {
      assets = null;
      throw e;
    });
    return assets;
  };
  const send = (res: Response, type: string, body: string): void => {
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    res.type(type).send(body);
  };
  r.get(['/dashboard', '/dashboard/'], async (_req, res) => {
    send(res, 'html', (await get()).html);
  });
  r.get('/dashboard/app.js', async (_req, res) => {
    send(res, 'application/javascript', (await get()).js);
  });
  r.get('/dashboard/app.css', async (_req, res) => {
    send(res, 'css', (await get()).css);
  });
  return r;
}
