import { z } from 'zod';
import { ErrorCodeSchema } from '@clubcard/shared/errors';

/**
 * The one contract between the kiosk core (Node) and the kiosk UI (renderer): every
 * message the UI receives or sends is defined here once, as a zod schema, and checked
 * on arrival — over Electron IPC and over the browser bridge alike.
 */
export const DisplayBalanceSchema = z.object({
  wallet: z.string(),
  amount: z.number().int(),
  provisional: z.number().int(),
});
export type DisplayBalanceMsg = z.infer<typeof DisplayBalanceSchema>;

export const TapOutcomeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('recorded'),
    eventId: z.string(),
    seq: z.number().int(),
    residentRef: z.string(),
    firstName: z.string().nullable(),
    serviceName: z.string(),
    venueName: z.string(),
    authMethod: z.string(),
    earned: z.array(z.object({ wallet: z.string(), amount: z.number().int() })),
    balances: z.array(DisplayBalanceSchema),
  }),
  z.object({
    kind: z.literal('refused'),
    code: ErrorCodeSchema,
    message: z.string(),
  }),
]);
export type TapOutcome = z.infer<typeof TapOutcomeSchema>;

export const SyncStateSchema = z.object({
  online: z.boolean(),
  syncing: z.boolean(),
  lastSuccessAt: z.number().nullable(),
  lastAttemptAt: z.number().nullable(),
  lastError: z.string().nullable(),
  backlog: z.number().int(),
  oldestUnsyncedAt: z.string().nullable(),
  rejected: z.number().int(),
  backendClockOffsetMs: z.number().nullable(),
  progress: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
});
export type SyncState = z.infer<typeof SyncStateSchema>;

export const ReaderStateSchema = z.object({
  status: z.enum(['ready', 'no-reader', 'error']),
  name: z.string().nullable(),
  message: z.string().nullable(),
});
export type ReaderState = z.infer<typeof ReaderStateSchema>;

export const KioskStateSchema = z.object({
  provisioned: z.boolean(),
  kioskId: z.string().nullable(),
  venueName: z.string().nullable(),
  serviceName: z.string().nullable(),
  reader: ReaderStateSchema,
  sync: SyncStateSchema,
});
export type KioskState = z.infer<typeof KioskStateSchema>;

export const BalancesUpdateSchema = z.object({
  residentRef: z.string(),
  balances: z.array(DisplayBalanceSchema),
});
export type BalancesUpdate = z.infer<typeof BalancesUpdateSchema>;

/** Messages pushed from the core to the UI. */
export const CoreMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('outcome'), outcome: TapOutcomeSchema }),
  z.object({ type: z.literal('state'), state: KioskStateSchema }),
  z.object({ type: z.literal('balances'), update: BalancesUpdateSchema }),
]);
export type CoreMessage = z.infer<typeof CoreMessageSchema>;

/** What the renderer may call; the preload exposes exactly this, nothing generic. */
export interface KioskBridge {
  getState(): Promise<KioskState>;
  onMessage(cb: (m: CoreMessage) => void): () => void;
  syncNow(): Promise<void>;
}

/** Demo cards the browser kiosk may offer as simulated taps (demo configuration only). */
export const DemoCardSchema = z.object({ label: z.string(), uid: z.string() });
export const DemoInfoSchema = z.object({ cards: z.array(DemoCardSchema) });
export type DemoInfo = z.infer<typeof DemoInfoSchema>;

/** IPC channel names, in one registry. */
export const IPC = {
  getState: 'kiosk:get-state',
  syncNow: 'kiosk:sync-now',
  message: 'kiosk:message',
} as const;
