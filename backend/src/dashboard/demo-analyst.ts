import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { OperatorService } from '../auth/operators.js';
import type { Db } from '../db/open.js';

const DemoAnalystSchema = z.object({ name: z.string(), password: z.string() });
export type DemoAnalyst = z.infer<typeof DemoAnalystSchema>;

export const DEMO_ANALYST_NAME = 'demo-analyst';

/**
 * For demo data only (`npm start`): an analyst login so the quick start can show the
 * dashboard. The generated password is kept beside the demo database (owner-only) so
 * every start prints the same one; a real council adds operators with the CLI.
 */
export async function ensureDemoAnalyst(db: Db, demoDir: string): Promise<DemoAnalyst | null> {
  const file = join(demoDir, 'demo-analyst.json');
  if (existsSync(file)) return DemoAnalystSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const exists = db.prepare('SELECT 1 FROM operators WHERE name = ?').get(DEMO_ANALYST_NAME);
  if (exists) return null;
  const analyst = { name: DEMO_ANALYST_NAME, password: randomBytes(12).toString('base64url') };
  await new OperatorService(db).add({ ...analyst, role: 'analyst' });
  writeFileSync(file, JSON.stringify(analyst, null, 2), { mode: 0o600 });
  return analyst;
}
