import type { Command } from 'commander';
import { AdminService } from '../admin/admin-service.js';
import { openBackend } from '../app.js';
import { dbFileOf, loadBackendConfig } from '../config.js';
import type { SqliteBackendStore } from '../store/sqlite-store.js';

export interface CliContext {
  store: SqliteBackendStore;
  admin: AdminService;
  close(): void;
}

/** Opens the backend database named by the global options / environment. */
export function openCliContext(cmd: Command): CliContext {
  const g = cmd.optsWithGlobals<{ dataDir?: string; db?: string }>();
  const config = loadBackendConfig({
    env: process.env,
    overrides: {
      ...(g.dataDir ? { dataDir: g.dataDir } : {}),
      ...(g.db ? { dbFile: g.db } : {}),
    },
  });
  const { store, secrets } = openBackend(config, dbFileOf(config));
  return { store, admin: new AdminService(store, secrets), close: () => store.close() };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Runs an action with an open context, closing it afterwards. */
export function withContext<A extends unknown[]>(
  fn: (ctx: CliContext, ...args: A) => void,
): (...args: A) => void {
  return (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = openCliContext(cmd);
    try {
      fn(ctx, ...args);
    } finally {
      ctx.close();
    }
  };
}
