import { createHash, randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '@clubcard/shared';
import type { Db } from '../db/open.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';

/** Letters and digits a person reads back without confusion (no I, O, 0, 1). */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const HANDLE_LENGTH = 6;
const SECRET_GROUPS = 4;

/** A resident access code: a public handle and an 80-bit secret, e.g. ABC234-DEFG-HJKM-NPQR-STUV. */
export const AccessCodeSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(
    new RegExp(`^[${ALPHABET}]{${HANDLE_LENGTH}}(-[${ALPHABET}]{4}){${SECRET_GROUPS}}$`),
    'access code looks like XXXXXX-XXXX-XXXX-XXXX-XXXX',
  );

export const ResidentLoginSchema = z.object({ code: AccessCodeSchema }).strict();

export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;
const SESSION_MS = 30 * 60 * 1000;

function chars(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const DUMMY_HASH =
  'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/**
 * Resident access codes (migration 009): issued by an admin (or staff through an admin),
 * shown once, stored as a handle and a scrypt hash of the secret. Signing in with one
 * gives a short session for the resident API. Failed sign-ins lock the handle for a
 * while; unknown handles are counted in memory the same way, so guessing is slow either way.
 */
export class ResidentAccessService {
  readonly #unknownFailures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** Issues a new code for a resident, replacing any earlier one (and its sessions). */
  async issue(residentRef: string, issuedBy: string): Promise<string> {
    if (!this.db.prepare('SELECT 1 FROM residents WHERE ref = ?').get(residentRef)) {
      throw new AppError('not-found', 'no such resident');
    }
    const secretGroups = Array.from({ length: SECRET_GROUPS }, () => chars(4));
    const secret = secretGroups.join('-');
    const hash = await hashPassword(secret);
    for (let attempt = 0; attempt < 5; attempt++) {
      const handle = chars(HANDLE_LENGTH);
      if (this.db.prepare('SELECT 1 FROM resident_access WHERE handle = ?').get(handle)) continue;
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM resident_access WHERE resident_ref = ?').run(residentRef);
        this.db.prepare('DELETE FROM resident_tokens WHERE resident_ref = ?').run(residentRef);
        this.db
          .prepare(
            'INSERT INTO resident_access (handle, resident_ref, secret_hash, issued_by, issued_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(handle, residentRef, hash, issuedBy, this.now());
      })();
      return `${handle}-${secret}`;
    }
    throw new AppError('internal', 'could not find a free access code handle');
  }

  /** Signs a resident in; the token is returned once and stored as a hash. */
  async login(input: unknown): Promise<{ token: string; expiresAt: number }> {
    const { code } = ResidentLoginSchema.parse(input);
    const handle = code.slice(0, HANDLE_LENGTH);
    const secret = code.slice(HANDLE_LENGTH + 1);
    const row = this.db
      .prepare(
        'SELECT resident_ref AS ref, secret_hash AS hash, locked_until AS lockedUntil FROM resident_access WHERE handle = ?',
      )
      .get(handle) as { ref: string; hash: string; lockedUntil: number | null } | undefined;
    const now = this.now();
    const mem = this.#unknownFailures.get(handle);
    const locked = row
      ? row.lockedUntil !== null && row.lockedUntil > now
      : mem !== undefined && mem.count >= MAX_FAILURES && mem.until > now;
    if (locked)
      throw new AppError('too-many-attempts', 'too many failed sign-ins: try again later');
    // Verify against a dummy hash when the handle is unknown, so timing does not tell.
    const ok = await verifyPassword(secret, row?.hash ?? DUMMY_HASH);
    if (!row || !ok) {
      if (row) {
        // Counted in SQL, so that concurrent attempts each count.
        const { failures } = this.db
          .prepare(
            'UPDATE resident_access SET failures = failures + 1 WHERE handle = ? RETURNING failures',
          )
          .get(handle) as { failures: number };
        if (failures >= MAX_FAILURES) {
          this.db
            .prepare('UPDATE resident_access SET failures = 0, locked_until = ? WHERE handle = ?')
            .run(now + LOCKOUT_MS, handle);
        }
      } else {
        if (this.#unknownFailures.size > 10_000) this.#unknownFailures.clear();
        const cur = mem && mem.until > now ? mem : { count: 0, until: 0 };
        this.#unknownFailures.set(handle, { count: cur.count + 1, until: now + LOCKOUT_MS });
      }
      throw new AppError('unauthenticated', 'access code not recognised');
    }
    this.db
      .prepare('UPDATE resident_access SET failures = 0, locked_until = NULL WHERE handle = ?')
      .run(handle);
    this.db.prepare('DELETE FROM resident_tokens WHERE expires_at <= ?').run(now);
    const token = `rt_${randomBytes(32).toString('base64url')}`;
    const expiresAt = now + SESSION_MS;
    this.db
      .prepare(
        'INSERT INTO resident_tokens (token_hash, resident_ref, created_at, expires_at) VALUES (?, ?, ?, ?)',
      )
      .run(tokenHash(token), row.ref, now, expiresAt);
    return { token, expiresAt };
  }

  /** The resident a session token belongs to, or null. */
  authenticate(token: string): string | null {
    const r = this.db
      .prepare(
        'SELECT resident_ref AS ref FROM resident_tokens WHERE token_hash = ? AND expires_at > ?',
      )
      .get(tokenHash(token), this.now()) as { ref: string } | undefined;
    return r?.ref ?? null;
  }

  logout(token: string): void {
    this.db.prepare('DELETE FROM resident_tokens WHERE token_hash = ?').run(tokenHash(token));
  }
}
