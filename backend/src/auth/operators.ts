import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '@clubcard/shared';
import type { Db } from '../db/open.js';
import { hashPassword, verifyPassword } from './passwords.js';

export const OperatorRoleSchema = z.enum(['admin', 'analyst']);
export type OperatorRole = z.infer<typeof OperatorRoleSchema>;

export const NewOperatorSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9._-]{2,40}$/, 'operator name: 3–41 lowercase letters, digits, . _ -'),
  role: OperatorRoleSchema,
  password: z.string().min(12, 'password: at least 12 characters').max(200),
});

export interface Principal {
  operatorId: string;
  name: string;
  role: OperatorRole;
}

const SESSION_MS = 8 * 3600 * 1000;
const API_TOKEN_MS = 365 * 86_400_000;
const MAX_FAILURES = 5;
const LOCKOUT_MS = 5 * 60 * 1000;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Council operators: admins (configure the scheme) and analysts (read aggregates). Login
 * gives a session token; API tokens serve scripts. Repeated failed logins lock the name
 * for a while.
 */
export class OperatorService {
  readonly #failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  async add(input: z.input<typeof NewOperatorSchema>): Promise<string> {
    const o = NewOperatorSchema.parse(input);
    const id = `op-${randomBytes(8).toString('hex')}`;
    const hash = await hashPassword(o.password);
    try {
      this.db
        .prepare(
          'INSERT INTO operators (id, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(id, o.name, o.role, hash, this.now());
    } catch (e) {
      throw new AppError('bad-request', `operator ${o.name} already exists`, { cause: e });
    }
    return id;
  }

  async login(name: string, password: string): Promise<{ token: string; principal: Principal }> {
    const f = this.#failures.get(name);
    if (f && f.count >= MAX_FAILURES && f.until > this.now()) {
      throw new AppError('too-many-attempts', 'too many failed logins: try again later');
    }
    const row = this.db
      .prepare(
        'SELECT id, name, role, password_hash AS hash, disabled FROM operators WHERE name = ?',
      )
      .get(name) as
      { id: string; name: string; role: OperatorRole; hash: string; disabled: number } | undefined;
    // Verify against a dummy hash when the name is unknown, so timing does not tell.
    const ok = await verifyPassword(password, row?.hash ?? DUMMY_HASH);
    if (!row || !ok || row.disabled) {
      const cur = this.#failures.get(name) ?? { count: 0, until: 0 };
      this.#failures.set(name, { count: cur.count + 1, until: this.now() + LOCKOUT_MS });
      throw new AppError('unauthenticated', 'name or password not recognised');
    }
    this.#failures.delete(name);
    return {
      token: this.#issue(row.id, 'session', SESSION_MS),
      principal: { operatorId: row.id, name: row.name, role: row.role },
    };
  }

  apiToken(name: string): string {
    const row = this.db
      .prepare('SELECT id FROM operators WHERE name = ? AND disabled = 0')
      .get(name) as { id: string } | undefined;
    if (!row) throw new AppError('not-found', `no operator ${name}`);
    return this.#issue(row.id, 'api', API_TOKEN_MS);
  }

  #issue(operatorId: string, kind: 'session' | 'api', ttl: number): string {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    this.db
      .prepare(
        'INSERT INTO operator_tokens (token_hash, operator_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(tokenHash(token), operatorId, kind, now, now + ttl);
    return token;
  }

  authenticate(token: string): Principal | null {
    const row = this.db
      .prepare(
        `SELECT o.id AS operatorId, o.name, o.role FROM operator_tokens t JOIN operators o ON o.id = t.operator_id
         WHERE t.token_hash = ? AND t.expires_at > ? AND o.disabled = 0`,
      )
      .get(tokenHash(token), this.now()) as Principal | undefined;
    return row ?? null;
  }

  logout(token: string): void {
    this.db.prepare('DELETE FROM operator_tokens WHERE token_hash = ?').run(tokenHash(token));
  }
}

const DUMMY_HASH =
  'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
