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
  /** What the kiosk is for: resident taps, or check-in at a GP drop-in (added; optional). */
  mode: z.enum(['resident', 'gp-drop-in']).optional(),
  /** True on a kiosk configured as an enrolment desk (holds issuing keys; staff-attended). */
  enrolmentDesk: z.boolean().optional(),
});
export type KioskState = z.infer<typeof KioskStateSchema>;

export const BalancesUpdateSchema = z.object({
  residentRef: z.string(),
  balances: z.array(DisplayBalanceSchema),
});
export type BalancesUpdate = z.infer<typeof BalancesUpdateSchema>;

/** Languages the kiosk ships; every UI string exists in each (terminal/src/i18n). */
export const LanguageSchema = z.enum(['en', 'cy']);
export type Language = z.infer<typeof LanguageSchema>;

/** Council-supplied text (scheme and offer names): English always, Welsh where given. */
export const LocalisedTextSchema = z.object({
  en: z.string().min(1).max(200),
  cy: z.string().min(1).max(200).optional(),
});
export type LocalisedText = z.infer<typeof LocalisedTextSchema>;

/** An option id names one redemption rule of one scheme: `<schemeId>/<ruleId>`. */
export const SpendOptionIdSchema = z.string().regex(/^[a-z0-9-]{1,60}\/[a-z0-9-]{1,60}$/);

/**
 * Something the resident on screen can spend a wallet on at this venue (from the rules
 * engine's redemption rules). Vouchers are wallets named `voucher:<scheme>`.
 */
export const SpendOptionSchema = z.object({
  id: SpendOptionIdSchema,
  wallet: z.string(),
  label: LocalisedTextSchema,
  /** Price in the wallet's unit. */
  price: z.number().int().min(1),
  needsApproval: z.boolean(),
  /** Why it cannot be had now (e.g. nothing-to-spend, offline-allowance-exceeded), or null. */
  unavailable: ErrorCodeSchema.nullable(),
});
export type SpendOption = z.infer<typeof SpendOptionSchema>;

/** A targeted offer for the resident on screen. */
export const OfferSchema = z.object({
  id: z.string().max(80),
  title: LocalisedTextSchema,
  detail: LocalisedTextSchema.nullable(),
});
export type Offer = z.infer<typeof OfferSchema>;

/** What the kiosk adds to a recorded tap for the screen (added; all optional). */
export const ResidentExtrasSchema = z.object({
  /** The language this resident chose before, remembered on this kiosk. */
  language: LanguageSchema.nullable(),
  /** GP drop-in mode: the resident's place in today's queue. */
  queueNumber: z.number().int().min(1).max(9999).nullable(),
  spendOptions: z.array(SpendOptionSchema).max(50),
  offer: OfferSchema.nullable(),
});
export type ResidentExtras = z.infer<typeof ResidentExtrasSchema>;

/** The state of one redemption, from choosing to done (or refused). */
export const RedemptionUpdateSchema = z.object({
  optionId: SpendOptionIdSchema,
  status: z.enum(['done', 'awaiting-approval', 'refused', 'cancelled']),
  /** Refused: why (nothing-to-spend, offline-allowance-exceeded, …). */
  code: ErrorCodeSchema.nullable(),
  wallet: z.string(),
  amount: z.number().int().min(0),
  /** Balances after a done redemption. */
  balances: z.array(DisplayBalanceSchema).nullable(),
});
export type RedemptionUpdate = z.infer<typeof RedemptionUpdateSchema>;

/** A resident as staff mode shows them: never more than a first name and age band. */
export const ResidentSummarySchema = z.object({
  residentRef: z.string().max(80),
  firstName: z.string().max(40).nullable(),
  ageBand: z.string().max(10),
});
export type ResidentSummary = z.infer<typeof ResidentSummarySchema>;

/** Attributes a resident may choose to tell the council (with their consent, at the desk). */
export const VolunteeredAttributeSchema = z.enum(['carer', 'veteran', 'student', 'new-to-area']);
export type VolunteeredAttribute = z.infer<typeof VolunteeredAttributeSchema>;

/** The staff desk's current task, as the screen shows it. */
export const StaffDeskViewSchema = z.object({
  /**
   * What the desk is doing: waiting for a new card to be tapped, personalising the blank
   * card just tapped (it must stay on the reader), or the last result.
   */
  status: z.enum(['idle', 'waiting-card', 'personalising', 'done', 'refused']),
  action: z.enum(['enrol', 'replace', 'visit', 'consent']).nullable(),
  code: ErrorCodeSchema.nullable(),
  /** First name of the resident concerned (done), if any. */
  firstName: z.string().max(40).nullable(),
});
export type StaffDeskView = z.infer<typeof StaffDeskViewSchema>;

/** Staff mode as the screen sees it. No PIN, hash or card data ever crosses the bridge. */
export const StaffViewSchema = z.object({
  status: z.enum(['signed-out', 'awaiting-pin', 'signed-in', 'locked']),
  /** First name of the signed-in (or signing-in) staff member. */
  firstName: z.string().max(40).nullable(),
  /** PIN attempts left before the staff card locks. */
  attemptsLeft: z.number().int().min(0).nullable(),
  /** Epoch ms: locked until / session ends at / PIN entry ends at. */
  until: z.number().int().nullable(),
  /** Epoch ms from which the screen warns that the session is about to end. */
  warnFrom: z.number().int().nullable(),
  /** The staff desk's task (added; optional). */
  desk: StaffDeskViewSchema.optional(),
  /** Redemptions waiting for a staff member's approval. */
  approvals: z.array(
    z.object({
      id: z.string().max(80),
      optionId: SpendOptionIdSchema,
      label: LocalisedTextSchema,
      wallet: z.string(),
      amount: z.number().int(),
    }),
  ),
});
export type StaffView = z.infer<typeof StaffViewSchema>;

export const RejectedEventViewSchema = z.object({
  seq: z.number().int(),
  type: z.string(),
  occurredAt: z.string(),
  code: z.string().nullable(),
});
export type RejectedEventView = z.infer<typeof RejectedEventViewSchema>;

/** Messages pushed from the core to the UI. */
export const CoreMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('outcome'),
    outcome: TapOutcomeSchema,
    resident: ResidentExtrasSchema.optional(),
  }),
  z.object({ type: z.literal('state'), state: KioskStateSchema }),
  z.object({ type: z.literal('balances'), update: BalancesUpdateSchema }),
  z.object({ type: z.literal('redemption'), update: RedemptionUpdateSchema }),
  z.object({ type: z.literal('staff'), staff: StaffViewSchema }),
]);
export type CoreMessage = z.infer<typeof CoreMessageSchema>;

/** Requests the renderer may make, each checked where it arrives. */
export const SetLanguageRequestSchema = z.object({ language: LanguageSchema }).strict();
export const RedeemRequestSchema = z
  .object({ optionId: SpendOptionIdSchema, quantity: z.number().int().min(1).max(10) })
  .strict();
export const StaffPinRequestSchema = z.object({ pin: z.string().regex(/^[0-9]{4,8}$/) }).strict();
export const ApproveRequestSchema = z.object({ id: z.string().min(1).max(80) }).strict();
export const StaffLookupRequestSchema = z
  .object({ query: z.string().trim().min(2).max(40) })
  .strict();
export const StaffResidentRequestSchema = z
  .object({ residentRef: z.string().regex(/^r-[a-z0-9]{8,40}$/) })
  .strict();
export const StaffConsentRequestSchema = z
  .object({
    residentRef: z.string().regex(/^r-[a-z0-9]{8,40}$/),
    analytics: z.boolean(),
    /** GP drop-in visits may feed segmentation (purpose `segmentation-health`). */
    healthVisits: z.boolean(),
    contact: z.boolean(),
    attributes: z.array(VolunteeredAttributeSchema).max(4),
  })
  .strict();
/** Arms the desk for the next card tapped: a new resident's card, or a replacement. */
export const StaffCardRequestSchema = z.discriminatedUnion('purpose', [
  z
    .object({
      purpose: z.literal('enrol'),
      firstName: z.string().trim().max(40).nullable(),
      ageBand: z.enum(['0-12', '13-19', '20-29', '30-44', '45-64', '65-74', '75+']),
    })
    .strict(),
  z
    .object({
      purpose: z.literal('replace'),
      residentRef: z.string().regex(/^r-[a-z0-9]{8,40}$/),
    })
    .strict(),
]);
export type StaffLookupRequest = z.infer<typeof StaffLookupRequestSchema>;
export type StaffResidentRequest = z.infer<typeof StaffResidentRequestSchema>;
export type StaffConsentRequest = z.infer<typeof StaffConsentRequestSchema>;
export type StaffCardRequest = z.infer<typeof StaffCardRequestSchema>;
export type SetLanguageRequest = z.infer<typeof SetLanguageRequestSchema>;
export type RedeemRequest = z.infer<typeof RedeemRequestSchema>;
export type StaffPinRequest = z.infer<typeof StaffPinRequestSchema>;
export type ApproveRequest = z.infer<typeof ApproveRequestSchema>;

/** A bridge call's answer: done, or refused with a stable code. */
export const BridgeResultSchema = z.object({
  ok: z.boolean(),
  code: ErrorCodeSchema.nullable(),
});
export type BridgeResult = z.infer<typeof BridgeResultSchema>;

/** What the renderer may call; the preload exposes exactly this, nothing generic. */
export interface KioskBridge {
  getState(): Promise<KioskState>;
  onMessage(cb: (m: CoreMessage) => void): () => void;
  syncNow(): Promise<void>;
  /** Remembers the language for the resident on screen (and this session). */
  setLanguage(req: SetLanguageRequest): Promise<BridgeResult>;
  /** Spends on one option for the resident on screen. */
  redeem(req: RedeemRequest): Promise<BridgeResult>;
  cancelRedemption(): Promise<BridgeResult>;
  staffPin(req: StaffPinRequest): Promise<BridgeResult>;
  staffSignOut(): Promise<BridgeResult>;
  /** Staff activity: keeps the session alive (after the time-out warning). */
  staffExtend(): Promise<BridgeResult>;
  approve(req: ApproveRequest): Promise<BridgeResult>;
  rejectedEvents(): Promise<RejectedEventView[]>;
  /** Staff desk: find residents (online), record a visit by hand, consent, new cards. */
  staffLookup(req: StaffLookupRequest): Promise<ResidentSummary[]>;
  staffRecordVisit(req: StaffResidentRequest): Promise<BridgeResult>;
  staffConsent(req: StaffConsentRequest): Promise<BridgeResult>;
  staffCard(req: StaffCardRequest): Promise<BridgeResult>;
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
  setLanguage: 'kiosk:set-language',
  redeem: 'kiosk:redeem',
  cancelRedemption: 'kiosk:cancel-redemption',
  staffPin: 'kiosk:staff-pin',
  staffSignOut: 'kiosk:staff-sign-out',
  staffExtend: 'kiosk:staff-extend',
  approve: 'kiosk:approve',
  rejectedEvents: 'kiosk:rejected-events',
  staffLookup: 'kiosk:staff-lookup',
  staffRecordVisit: 'kiosk:staff-record-visit',
  staffConsent: 'kiosk:staff-consent',
  staffCard: 'kiosk:staff-card',
} as const;
