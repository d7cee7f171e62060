import { readdirSync, readFileSync } from 'node:fs';
import {
  SchemeFileSchema,
  formatSchemeProblems,
  type SchemeDefinition,
  type SchemeProblem,
} from './scheme.js';

/**
 * The example schemes shipped in shared/schemes/ (one JSON file per scheme, holding its
 * versions). Node only (reads files), so deliberately not exported from the package
 * index: import '@clubcard/shared/rules/example-schemes'.
 */
export const EXAMPLE_SCHEMES_DIR = new URL('../../schemes/', import.meta.url);

/** Parses one scheme file's JSON text; throws an Error listing every problem. */
export function parseSchemeFile(text: string, name = 'scheme file'): SchemeDefinition[] {
  const r = SchemeFileSchema.safeParse(JSON.parse(text));
  if (r.success) return r.data;
  const problems: SchemeProblem[] = r.error.issues.map((i) => ({
    path: i.path.filter((p): p is string | number => typeof p !== 'symbol'),
    kind: i.message.startsWith('Unfair:') ? 'unfair' : 'invalid',
    message: i.message,
  }));
  throw new Error(`${name} is refused:\n${formatSchemeProblems(problems)}`);
}

/** Every version of every example scheme, sorted by (id, version). */
export function loadExampleSchemes(dir: URL = EXAMPLE_SCHEMES_DIR): SchemeDefinition[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files
    .flatMap((f) => parseSchemeFile(readFileSync(new URL(f, dir), 'utf8'), f))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.version - b.version));
}
