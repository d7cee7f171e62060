import { z } from 'zod';

/** Stable, kebab-case error codes: part of the protocol, so only ever added to. */
export const ERROR_CODES = {
  'bad-request': 400,
  'validation-failed': 400,
  'payload-too-large': 413,
  'unsupported-protocol': 400,
  'bad-signature': 401,
  'unknown-kiosk': 401,
  'kiosk-revoked': 403,
  'kiosk-mismatch': 403,
  'replayed-request': 409,
  'clock-skew': 401,
  'invalid-provisioning-code': 403,
  'not-found': 404,
  'card-not-registered': 404,
  'card-blocked': 403,
  'card-not-genuine': 403,
  'card-replayed': 403,
  'uid-only-not-allowed': 403,
  /** An enrolment desk was given a card that is already issued (or personalised with our keys). */
  'card-already-issued': 409,
  /** The card left the reader while an enrolment desk personalised it: nothing was issued. */
  'card-personalisation-interrupted': 409,
  /** The card refused to be personalised (not a blank card, or it answered wrongly). */
  'card-personalisation-failed': 422,
  'nothing-to-spend': 409,
  'offline-allowance-exceeded': 409,
  'reader-disconnected': 503,
  'reader-error': 503,
  'storage-full': 507,
  'storage-error': 500,
  'backend-unreachable': 503,
  'bad-pull-page': 502,
  'unknown-service': 400,
  'unknown-venue': 400,
  'event-out-of-order': 409,
  'database-ahead-of-code': 500,
  'config-invalid': 500,
  unauthenticated: 401,
  forbidden: 403,
  'too-many-attempts': 429,
  'scheme-refused': 422,
  'redemption-refused': 409,
  'grant-refused': 409,
  'bad-outlet-key': 401,
  'unknown-outlet': 404,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

/** Plain-data form of an AppError, for IPC and HTTP. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: ErrorCodeSchema,
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export interface AppErrorOptions {
  cause?: unknown;
  /** Safe-to-show extra data (never personal data). */
  details?: Record<string, unknown>;
  status?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code];
    this.details = options.details;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }

  static fromBody(body: ErrorBody, status?: number): AppError {
    return new AppError(body.error.code, body.error.message, {
      ...(body.error.details ? { details: body.error.details } : {}),
      ...(status !== undefined ? { status } : {}),
    });
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
