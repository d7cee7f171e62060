import { z } from 'zod';
/**
 * The one contract between the kiosk core (Node) and the kiosk UI (renderer): every
 * message the UI receives or sends is defined here once, as a zod schema, and checked
 * on arrival — over Electron IPC and over the browser bridge alike.
 */
export declare const DisplayBalanceSchema: z.ZodObject<{
    wallet: z.ZodString;
    amount: z.ZodNumber;
    provisional: z.ZodNumber;
}, z.core.$strip>;
export type DisplayBalanceMsg = z.infer<typeof DisplayBalanceSchema>;
export declare const TapOutcomeSchema: z.ZodDiscriminatedUnion<[z.ZodObject<{
    kind: z.ZodLiteral<"recorded">;
    eventId: z.ZodString;
    seq: z.ZodNumber;
    residentRef: z.ZodString;
    firstName: z.ZodNullable<z.ZodString>;
    serviceName: z.ZodString;
    venueName: z.ZodString;
    authMethod: z.ZodString;
    earned: z.ZodArray<z.ZodObject<{
        wallet: z.ZodString;
        amount: z.ZodNumber;
    }, z.core.$strip>>;
    balances: z.ZodArray<z.ZodObject<{
        wallet: z.ZodString;
        amount: z.ZodNumber;
        provisional: z.ZodNumber;
    }, z.core.$strip>>;
}, z.core.$strip>, z.ZodObject<{
    kind: z.ZodLiteral<"refused">;
    code: z.ZodEnum<{
        "bad-request": "bad-request";
        "validation-failed": "validation-failed";
        "payload-too-large": "payload-too-large";
        "unsupported-protocol": "unsupported-protocol";
        "bad-signature": "bad-signature";
        "unknown-kiosk": "unknown-kiosk";
        "kiosk-revoked": "kiosk-revoked";
        "kiosk-mismatch": "kiosk-mismatch";
        "replayed-request": "replayed-request";
        "clock-skew": "clock-skew";
        "invalid-provisioning-code": "invalid-provisioning-code";
        "not-found": "not-found";
        "card-not-registered": "card-not-registered";
        "card-blocked": "card-blocked";
        "card-not-genuine": "card-not-genuine";
        "card-replayed": "card-replayed";
        "uid-only-not-allowed": "uid-only-not-allowed";
        "nothing-to-spend": "nothing-to-spend";
        "offline-allowance-exceeded": "offline-allowance-exceeded";
        "reader-disconnected": "reader-disconnected";
        "reader-error": "reader-error";
        "storage-full": "storage-full";
        "storage-error": "storage-error";
        "backend-unreachable": "backend-unreachable";
        "bad-pull-page": "bad-pull-page";
        "unknown-service": "unknown-service";
        "unknown-venue": "unknown-venue";
        "event-out-of-order": "event-out-of-order";
        "database-ahead-of-code": "database-ahead-of-code";
        "config-invalid": "config-invalid";
        internal: "internal";
    }>;
    message: z.ZodString;
}, z.core.$strip>], "kind">;
export type TapOutcome = z.infer<typeof TapOutcomeSchema>;
export declare const SyncStateSchema: z.ZodObject<{
    online: z.ZodBoolean;
    syncing: z.ZodBoolean;
    lastSuccessAt: z.ZodNullable<z.ZodNumber>;
    lastAttemptAt: z.ZodNullable<z.ZodNumber>;
    lastError: z.ZodNullable<z.ZodString>;
    backlog: z.ZodNumber;
    oldestUnsyncedAt: z.ZodNullable<z.ZodString>;
    rejected: z.ZodNumber;
    backendClockOffsetMs: z.ZodNullable<z.ZodNumber>;
    progress: z.ZodNullable<z.ZodObject<{
        done: z.ZodNumber;
        total: z.ZodNumber;
    }, z.core.$strip>>;
}, z.core.$strip>;
export type SyncState = z.infer<typeof SyncStateSchema>;
export declare const ReaderStateSchema: z.ZodObject<{
    status: z.ZodEnum<{
        ready: "ready";
        "no-reader": "no-reader";
        error: "error";
    }>;
    name: z.ZodNullable<z.ZodString>;
    message: z.ZodNullable<z.ZodString>;
}, z.core.$strip>;
export type ReaderState = z.infer<typeof ReaderStateSchema>;
export declare const KioskStateSchema: z.ZodObject<{
    provisioned: z.ZodBoolean;
    kioskId: z.ZodNullable<z.ZodString>;
    venueName: z.ZodNullable<z.ZodString>;
    serviceName: z.ZodNullable<z.ZodString>;
    reader: z.ZodObject<{
        status: z.ZodEnum<{
            ready: "ready";
            "no-reader": "no-reader";
            error: "error";
        }>;
        name: z.ZodNullable<z.ZodString>;
        message: z.ZodNullable<z.ZodString>;
    }, z.core.$strip>;
    sync: z.ZodObject<{
        online: z.ZodBoolean;
        syncing: z.ZodBoolean;
        lastSuccessAt: z.ZodNullable<z.ZodNumber>;
        lastAttemptAt: z.ZodNullable<z.ZodNumber>;
        lastError: z.ZodNullable<z.ZodString>;
        backlog: z.ZodNumber;
        oldestUnsyncedAt: z.ZodNullable<z.ZodString>;
        rejected: z.ZodNumber;
        backendClockOffsetMs: z.ZodNullable<z.ZodNumber>;
        progress: z.ZodNullable<z.ZodObject<{
            done: z.ZodNumber;
            total: z.ZodNumber;
        }, z.core.$strip>>;
    }, z.core.$strip>;
}, z.core.$strip>;
export type KioskState = z.infer<typeof KioskStateSchema>;
export declare const BalancesUpdateSchema: z.ZodObject<{
    residentRef: z.ZodString;
    balances: z.ZodArray<z.ZodObject<{
        wallet: z.ZodString;
        amount: z.ZodNumber;
        provisional: z.ZodNumber;
    }, z.core.$strip>>;
}, z.core.$strip>;
export type BalancesUpdate = z.infer<typeof BalancesUpdateSchema>;
/** Messages pushed from the core to the UI. */
export declare const CoreMessageSchema: z.ZodDiscriminatedUnion<[z.ZodObject<{
    type: z.ZodLiteral<"outcome">;
    outcome: z.ZodDiscriminatedUnion<[z.ZodObject<{
        kind: z.ZodLiteral<"recorded">;
        eventId: z.ZodString;
        seq: z.ZodNumber;
        residentRef: z.ZodString;
        firstName: z.ZodNullable<z.ZodString>;
        serviceName: z.ZodString;
        venueName: z.ZodString;
        authMethod: z.ZodString;
        earned: z.ZodArray<z.ZodObject<{
            wallet: z.ZodString;
            amount: z.ZodNumber;
        }, z.core.$strip>>;
        balances: z.ZodArray<z.ZodObject<{
            wallet: z.ZodString;
            amount: z.ZodNumber;
            provisional: z.ZodNumber;
        }, z.core.$strip>>;
    }, z.core.$strip>, z.ZodObject<{
        kind: z.ZodLiteral<"refused">;
        code: z.ZodEnum<{
            "bad-request": "bad-request";
            "validation-failed": "validation-failed";
            "payload-too-large": "payload-too-large";
            "unsupported-protocol": "unsupported-protocol";
            "bad-signature": "bad-signature";
            "unknown-kiosk": "unknown-kiosk";
            "kiosk-revoked": "kiosk-revoked";
            "kiosk-mismatch": "kiosk-mismatch";
            "replayed-request": "replayed-request";
            "clock-skew": "clock-skew";
            "invalid-provisioning-code": "invalid-provisioning-code";
            "not-found": "not-found";
            "card-not-registered": "card-not-registered";
            "card-blocked": "card-blocked";
            "card-not-genuine": "card-not-genuine";
            "card-replayed": "card-replayed";
            "uid-only-not-allowed": "uid-only-not-allowed";
            "nothing-to-spend": "nothing-to-spend";
            "offline-allowance-exceeded": "offline-allowance-exceeded";
            "reader-disconnected": "reader-disconnected";
            "reader-error": "reader-error";
            "storage-full": "storage-full";
            "storage-error": "storage-error";
            "backend-unreachable": "backend-unreachable";
            "bad-pull-page": "bad-pull-page";
            "unknown-service": "unknown-service";
            "unknown-venue": "unknown-venue";
            "event-out-of-order": "event-out-of-order";
            "database-ahead-of-code": "database-ahead-of-code";
            "config-invalid": "config-invalid";
            internal: "internal";
        }>;
        message: z.ZodString;
    }, z.core.$strip>], "kind">;
}, z.core.$strip>, z.ZodObject<{
    type: z.ZodLiteral<"state">;
    state: z.ZodObject<{
        provisioned: z.ZodBoolean;
        kioskId: z.ZodNullable<z.ZodString>;
        venueName: z.ZodNullable<z.ZodString>;
        serviceName: z.ZodNullable<z.ZodString>;
        reader: z.ZodObject<{
            status: z.ZodEnum<{
                ready: "ready";
                "no-reader": "no-reader";
                error: "error";
            }>;
            name: z.ZodNullable<z.ZodString>;
            message: z.ZodNullable<z.ZodString>;
        }, z.core.$strip>;
        sync: z.ZodObject<{
            online: z.ZodBoolean;
            syncing: z.ZodBoolean;
            lastSuccessAt: z.ZodNullable<z.ZodNumber>;
            lastAttemptAt: z.ZodNullable<z.ZodNumber>;
            lastError: z.ZodNullable<z.ZodString>;
            backlog: z.ZodNumber;
            oldestUnsyncedAt: z.ZodNullable<z.ZodString>;
            rejected: z.ZodNumber;
            backendClockOffsetMs: z.ZodNullable<z.ZodNumber>;
            progress: z.ZodNullable<z.ZodObject<{
                done: z.ZodNumber;
                total: z.ZodNumber;
            }, z.core.$strip>>;
        }, z.core.$strip>;
    }, z.core.$strip>;
}, z.core.$strip>, z.ZodObject<{
    type: z.ZodLiteral<"balances">;
    update: z.ZodObject<{
        residentRef: z.ZodString;
        balances: z.ZodArray<z.ZodObject<{
            wallet: z.ZodString;
            amount: z.ZodNumber;
            provisional: z.ZodNumber;
        }, z.core.$strip>>;
    }, z.core.$strip>;
}, z.core.$strip>], "type">;
export type CoreMessage = z.infer<typeof CoreMessageSchema>;
/** What the renderer may call; the preload exposes exactly this, nothing generic. */
export interface KioskBridge {
    getState(): Promise<KioskState>;
    onMessage(cb: (m: CoreMessage) => void): () => void;
    syncNow(): Promise<void>;
}
/** Demo cards the browser kiosk may offer as simulated taps (demo configuration only). */
export declare const DemoCardSchema: z.ZodObject<{
    label: z.ZodString;
    uid: z.ZodString;
}, z.core.$strip>;
export declare const DemoInfoSchema: z.ZodObject<{
    cards: z.ZodArray<z.ZodObject<{
        label: z.ZodString;
        uid: z.ZodString;
    }, z.core.$strip>>;
}, z.core.$strip>;
export type DemoInfo = z.infer<typeof DemoInfoSchema>;
/** IPC channel names, in one registry. */
export declare const IPC: {
    readonly getState: "kiosk:get-state";
    readonly syncNow: "kiosk:sync-now";
    readonly message: "kiosk:message";
};
