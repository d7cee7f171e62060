import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '@clubcard/shared';
import type { OperatorRole, OperatorService, Principal } from './operators.js';

export const SESSION_COOKIE = 'clubcard_session';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

function tokenOf(req: Request): string | null {
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(auth) : null;
  if (m?.[1]) return m[1];
  const cookie = req.headers.cookie ?? '';
  for (const part of cookie.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === SESSION_COOKIE && v && /^[A-Za-z0-9_-]{20,100}$/.test(v)) return v;
  }
  return null;
}

/** Lets the request through only for an operator with one of these roles. */
export function requireRole(ops: OperatorService, ...roles: OperatorRole[]): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const token = tokenOf(req);
    const p = token ? ops.authenticate(token) : null;
    if (!p) {
      next(new AppError('unauthenticated', 'sign in first'));
      return;
    }
    if (!roles.includes(p.role)) {
      next(new AppError('forbidden', 'your role may not do this'));
      return;
    }
    req.principal = p;
    next();
  };
}

export function sessionToken(req: Request): string | null {
  return tokenOf(req);
}
