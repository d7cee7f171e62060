import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { AppError } from '@clubcard/shared';
import type { Logger } from '../logger.js';

interface BodyParserError {
  type?: string;
  status?: number;
}

function asBodyParserError(e: unknown): BodyParserError | null {
  return typeof e === 'object' && e !== null && 'type' in e ? (e as BodyParserError) : null;
}

/** Maps anything thrown to a stable error code; logs details, never leaks internals. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) {
    return new AppError('validation-failed', 'request did not match the schema', {
      details: {
        issues: err.issues
          .slice(0, 10)
          .map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    });
  }
  const bp = asBodyParserError(err);
  if (bp?.type === 'entity.too.large')
    return new AppError('payload-too-large', 'request body too large');
  if (bp?.type === 'entity.parse.failed')
    return new AppError('bad-request', 'request body is not valid JSON');
  if (bp?.type === 'encoding.unsupported' || bp?.type === 'charset.unsupported') {
    return new AppError('bad-request', 'unsupported body encoding');
  }
  return new AppError('internal', 'internal error', { cause: err });
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toAppError(err);
    if (e.code === 'internal') log.error({ err, path: req.path }, 'request failed');
    else log.info({ code: e.code, path: req.path }, 'request refused');
    res.status(e.status).json(e.toBody());
  };
}
