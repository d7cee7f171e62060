import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from '@clubcard/shared';
import { DemoCardSchema } from './bridge/kiosk-bridge.js';
import { IssuingKeyConfigSchema, ReadKeyRingConfigSchema } from './card-auth/card-keys.js';

const HidRuleSchema = z.object({
  role: z.enum(['wedge', 'feedback']),
  vendorId: z.number().int().min(0).max(0xffff),
  productId: z.number().int().min(0).max(0xffff).optional(),
  usagePage: z.number().int().min(0).max(0xffff).optional(),
  usage: z.number().int().min(0).max(0xffff).optional(),
  name: z.string().max(80).optional(),
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Kiosk configuration: defaults, then a JSON file, then CLUBCARD_* environment
 * variables, validated at start-up. The demo section (simulated taps from a browser)
 * exists only when configured, and only on a loopback address.
 */
export const KioskConfigSchema = z
  .object({
    dataDir: z.string().min(1),
    dbFile: z.string().min(1).optional(),
    backendUrl: z.url(),
    provisioningCode: z.string().optional(),
    ui: z.object({
      host: z.string().min(1),
      port: z.number().int().min(0).max(65535),
    }),
    reader: z.enum(['simulated', 'pcsc', 'hid']),
    /** PC/SC: only readers whose name contains this (default: every reader). */
    pcscReaderName: z.string().min(1).max(120).optional(),
    /** HID: which devices are fob readers / barcode scanners / status lights. */
    hidRules: z.array(HidRuleSchema).max(20).default([]),
    /**
     * libusb (default) detaches the kernel keyboard driver from a keyboard-wedge reader,
     * so its keystrokes never reach the kiosk UI; hidraw leaves them going there too.
     */
    hidDriver: z.enum(['libusb', 'hidraw']).default('libusb'),
    /**
     * Council read master keys (current and previous version) for verifying secure cards
     * offline. Never issuing keys: those stay on enrolment desks and in the back office.
     */
    readKeys: ReadKeyRingConfigSchema.nullable().default(null),
    /**
     * An attended enrolment desk: staff may enrol residents and replace lost cards here.
     * Only with issuing keys configured (personalising a card needs them).
     */
    enrolmentDesk: z.boolean().default(false),
    /**
     * The issuing master: enrolment desks only, never an unattended kiosk. With a PC/SC
     * reader, blank NTAG 424 DNA cards are personalised with keys diversified from it
     * (and the current read-key version's), then read back and checked before issue.
     */
    issuingKey: IssuingKeyConfigSchema.nullable().default(null),
    syncIntervalMs: z.number().int().min(100).max(3_600_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    demo: z
      .object({
        /** Bearer token required by the simulated-tap endpoint. */
        tapToken: z.string().min(16),
        cards: z.array(DemoCardSchema).max(50),
      })
      .nullable(),
  })
  .refine((c) => c.demo === null || LOOPBACK.has(c.ui.host), {
    message: 'demo taps are only allowed on a loopback address',
    path: ['ui', 'host'],
  })
  .refine((c) => !c.enrolmentDesk || c.issuingKey !== null, {
    message: 'an enrolment desk needs the issuing key (issuingKey)',
    path: ['enrolmentDesk'],
  })
  .refine((c) => !c.enrolmentDesk || c.reader !== 'pcsc' || c.readKeys !== null, {
    message:
      'an enrolment desk with a PC/SC reader needs the read keys (readKeys) to check the cards it personalises',
    path: ['readKeys'],
  })
  // KeyVer 00h is the factory's: a desk that wrote it could not tell the keys it has
  // changed from those it has not, and so could not finish a card taken away part-way.
  .refine((c) => !c.enrolmentDesk || c.issuingKey === null || c.issuingKey.version !== 0, {
    message: 'an enrolment desk’s issuing key version must not be 0 (the factory key version)',
    path: ['issuingKey', 'version'],
  })
  .refine((c) => !c.enrolmentDesk || c.readKeys === null || c.readKeys.current.version !== 0, {
    message: 'an enrolment desk’s current read-key version must not be 0 (the factory key version)',
    path: ['readKeys', 'current', 'version'],
  })
  .refine((c) => c.enrolmentDesk || c.issuingKey === null, {
    message: 'issuing keys belong on an enrolment desk only, never on an unattended kiosk',
    path: ['issuingKey'],
  });
export type KioskConfig = z.infer<typeof KioskConfigSchema>;

export interface LoadKioskConfigOptions {
  env?: Record<string, string | undefined>;
  file?: string;
  overrides?: Partial<KioskConfig>;
}

export function loadKioskConfig(opts: LoadKioskConfigOptions = {}): KioskConfig {
  const env = opts.env ?? {};
  const merged: Record<string, unknown> = {
    dataDir: resolve('data', 'kiosk'),
    backendUrl: 'http://127.0.0.1:8080',
    ui: { host: '127.0.0.1', port: 8081 },
    reader: 'pcsc',
    syncIntervalMs: 5000,
    logLevel: 'info',
    demo: null,
  };
  const file = opts.file ?? env.CLUBCARD_KIOSK_CONFIG;
  if (file) {
    if (!existsSync(file))
      throw new AppError('config-invalid', `kiosk config file not found: ${file}`);
    try {
      Object.assign(merged, JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
    } catch (e) {
      throw new AppError('config-invalid', `kiosk config file ${file} is not valid JSON`, {
        cause: e,
      });
    }
  }
  const ui = { ...(merged.ui as Record<string, unknown>) };
  if (env.CLUBCARD_KIOSK_DATA_DIR) merged.dataDir = env.CLUBCARD_KIOSK_DATA_DIR;
  if (env.CLUBCARD_BACKEND_URL) merged.backendUrl = env.CLUBCARD_BACKEND_URL;
  if (env.CLUBCARD_PROVISIONING_CODE) merged.provisioningCode = env.CLUBCARD_PROVISIONING_CODE;
  if (env.CLUBCARD_READER) merged.reader = env.CLUBCARD_READER;
  if (env.CLUBCARD_KIOSK_UI_HOST) ui.host = env.CLUBCARD_KIOSK_UI_HOST;
  if (env.CLUBCARD_KIOSK_UI_PORT) ui.port = Number(env.CLUBCARD_KIOSK_UI_PORT);
  if (env.CLUBCARD_SYNC_INTERVAL_MS) merged.syncIntervalMs = Number(env.CLUBCARD_SYNC_INTERVAL_MS);
  if (env.CLUBCARD_LOG_LEVEL) merged.logLevel = env.CLUBCARD_LOG_LEVEL;
  if (env.CLUBCARD_PCSC_READER_NAME) merged.pcscReaderName = env.CLUBCARD_PCSC_READER_NAME;
  merged.ui = ui;
  Object.assign(merged, opts.overrides ?? {});
  const parsed = KioskConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('config-invalid', `invalid kiosk configuration: ${msg}`);
  }
  return parsed.data;
}

export function kioskDbFile(c: KioskConfig): string {
  return c.dbFile ?? resolve(c.dataDir, 'kiosk.sqlite');
}
