import type { Server } from 'node:http';
import { loadBackendConfig, dbFileOf, type BackendConfig } from './config.js';
import { backendServices, createApp, openBackend } from './app.js';
import { Analytics } from './analytics/analytics.js';
import { createLogger } from './logger.js';
import {
  startAllowanceScheduler,
  type AllowanceSchedulerOptions,
} from './rewards/allowance-scheduler.js';
import { RewardsService } from './rewards/rewards-service.js';

export interface RunningBackend {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface BackendRunOptions {
  /**
   * The scheduled-allowance timer (on by default, first run one interval after start);
   * `false` turns it off. `now` is the clock allowances are issued by (tests).
   */
  allowances?: (AllowanceSchedulerOptions & { now?: () => number }) | false;
}

/** Starts the backend HTTP server for a validated config. */
export async function startBackend(
  config: BackendConfig,
  options: BackendRunOptions = {},
): Promise<RunningBackend> {
  const log = createLogger(config.logLevel);
  const { store, secrets } = openBackend(config, dbFileOf(config));
  const now = (): number => Date.now();
  // Usage rollups and feature rows are maintained as each ingestion batch is accepted
  // (held in memory and written out in bulk; visits not written out by a previous run
  // are applied again here, from the event log).
  const analytics = new Analytics(store.db);
  const services = backendServices(store, secrets, now);
  const app = createApp({
    config,
    store,
    secrets,
    log,
    now,
    listeners: [analytics.listener],
    analytics,
    ...services,
  });
  const pruner = setInterval(
    () => store.pruneNonces(now() - 2 * config.maxClockSkewMs - 60_000),
    60_000,
  );
  pruner.unref();
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host}:${port}`;
  log.info({ url }, 'backend listening');
  // The dashboard's in-memory usage copies and the residents' rows the listener reads,
  // loaded now rather than on the first query or batch: a few thousand rows per step,
  // so that pushes and dashboard requests are served meanwhile.
  const warming = analytics.warmUp({
    progress: (p) => {
      log.info(p, p.phase === 'total' ? 'analytics warmed' : 'analytics warm-up phase done');
    },
  });
  warming.done.catch((err: unknown) => {
    // Queries and batches load what they need on demand, as before the warm-up.
    log.error({ err }, 'analytics warm-up failed');
  });
  // Scheduled allowances, once the backend serves (idempotent per resident and period).
  const allowanceOptions = options.allowances ?? {};
  const allowances =
    allowanceOptions === false
      ? null
      : startAllowanceScheduler(
          new RewardsService(
            store,
            services.engine,
            secrets.cardHashKey,
            allowanceOptions.now ?? now,
          ).grants,
          log,
          allowanceOptions,
        );
  return {
    url,
    port,
    close: async () => {
      clearInterval(pruner);
      warming.stop();
      allowances?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      analytics.close();
      store.close();
    },
  };
}

/** Entry point: `tsx backend/src/main.ts` (config from file/env). */
export async function runFromEnv(): Promise<void> {
  const config = loadBackendConfig({ env: process.env });
  const b = await startBackend(config);
  // The parent (npm start, tests) reads this line to learn the URL.
  process.stdout.write(`${JSON.stringify({ ready: 'backend', url: b.url })}\n`);
  const stop = (): void => {
    void b.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runFromEnv();
}
