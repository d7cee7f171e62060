import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AppError, MAX_CLOCK_SKEW_MS } from '@clubcard/shared';

/**
 * Backend configuration: defaults, then a JSON file, then CLUBCARD_* environment
 * variables; validated at start-up. Nothing else reads process.env.
 */
export const BackendConfigSchema = z.object({
  dataDir: z.string().min(1),
  /** SQLite file; defaults to <dataDir>/backend.sqlite. */
  dbFile: z.string().min(1).optional(),
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  maxClockSkewMs: z
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000),
  pullPageSize: z.number().int().min(1).max(2000),
});
export type BackendConfig = z.infer<typeof BackendConfigSchema>;

export const DEFAULT_BACKEND_CONFIG: BackendConfig = {
  dataDir: resolve('data'),
  host: '127.0.0.1',
  port: 8080,
  logLevel: 'info',
  maxClockSkewMs: MAX_CLOCK_SKEW_MS,
  pullPageSize: 1000,
};

const ENV_KEYS: Record<string, keyof BackendConfig> = {
  CLUBCARD_DATA_DIR: 'dataDir',
  CLUBCARD_DB_FILE: 'dbFile',
  CLUBCARD_HOST: 'host',
  CLUBCARD_PORT: 'port',
  CLUBCARD_LOG_LEVEL: 'logLevel',
  CLUBCARD_MAX_CLOCK_SKEW_MS: 'maxClockSkewMs',
  CLUBCARD_PULL_PAGE_SIZE: 'pullPageSize',
};

const NUMERIC = new Set<keyof BackendConfig>(['port', 'maxClockSkewMs', 'pullPageSize']);

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  file?: string;
  overrides?: Partial<BackendConfig>;
}

export function loadBackendConfig(opts: LoadConfigOptions = {}): BackendConfig {
  const env = opts.env ?? {};
  const merged: Record<string, unknown> = { ...DEFAULT_BACKEND_CONFIG };
  const file = opts.file ?? env.CLUBCARD_CONFIG;
  if (file) {
    if (!existsSync(file)) throw new AppError('config-invalid', `config file not found: ${file}`);
    try {
      Object.assign(merged, JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
    } catch (e) {
      throw new AppError('config-invalid', `config file ${file} is not valid JSON`, { cause: e });
    }
  }
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    merged[key] = NUMERIC.has(key) ? Number(v) : v;
  }
  Object.assign(merged, opts.overrides ?? {});
  const parsed = BackendConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('config-invalid', `invalid backend configuration: ${msg}`);
  }
  return parsed.data;
}

export function dbFileOf(config: BackendConfig): string {
  return config.dbFile ?? resolve(config.dataDir, 'backend.sqlite');
}
