import express, { Router } from 'express';
import { z } from 'zod';
import { SESSION_COOKIE, requireRole, sessionToken } from './middleware.js';
import type { OperatorService } from './operators.js';

const LoginSchema = z.object({
  name: z.string().min(1).max(60),
  password: z.string().min(1).max(200),
});

/** Operator sign-in for the dashboard (HttpOnly, SameSite=Strict session cookie). */
export function authRouter(ops: OperatorService): Router {
  const r = Router();
  r.post('/api/v1/auth/login', express.json({ limit: '2kb' }), async (req, res) => {
    const body = LoginSchema.parse(req.body);
    const { token, principal } = await ops.login(body.name, body.password);
    res.setHeader(
      'Set-Cookie',
      `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${8 * 3600}`,
    );
    res.json({ name: principal.name, role: principal.role });
  });
  r.post('/api/v1/auth/logout', (req, res) => {
    const t = sessionToken(req);
    if (t) ops.logout(t);
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    res.json({ ok: true });
  });
  r.get('/api/v1/auth/me', requireRole(ops, 'admin', 'analyst'), (req, res) => {
    res.json({ name: req.principal?.name, role: req.principal?.role });
  });
  return r;
}
