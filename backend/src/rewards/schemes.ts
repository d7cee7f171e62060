import {
  AppError,
  SchemeDefinitionSchema,
  eligibilityAttributesOf,
  validateScheme,
  type SchemeDefinition,
  type SchemeProblem,
} from '@clubcard/shared';
import type { BackendStore } from '../store/repository.js';
import { ResidentAttributeStore, dbOf } from './attributes.js';

export interface SchemeCheck {
  ok: boolean;
  /** The versions that would be published, as (id, version). */
  versions: { schemeId: string; version: number }[];
  problems: SchemeProblem[];
}

/**
 * Checks a scheme version, or a scheme file (an array of versions), for publishing: every
 * problem of every version in plain words (invalid or `Unfair:`), and that the versions
 * continue the published ones without a gap.
 */
export function checkSchemeInput(store: BackendStore, input: unknown): SchemeCheck {
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) {
    return {
      ok: false,
      versions: [],
      problems: [{ path: [], kind: 'invalid', message: 'no scheme versions given' }],
    };
  }
  const problems: SchemeProblem[] = [];
  const defs: SchemeDefinition[] = [];
  list.forEach((v, i) => {
    const r = validateScheme(v);
    const prefix = Array.isArray(input) ? [i] : [];
    if (r.ok) defs.push(r.scheme);
    else for (const p of r.problems) problems.push({ ...p, path: [...prefix, ...p.path] });
  });
  if (problems.length === 0) {
    const published = store.listSchemes();
    const top = new Map<string, number>();
    for (const s of published) top.set(s.id, Math.max(top.get(s.id) ?? 0, s.version));
    defs.forEach((d, i) => {
      const next = (top.get(d.id) ?? 0) + 1;
      if (d.version !== next) {
        problems.push({
          path: Array.isArray(input) ? [i, 'version'] : ['version'],
          kind: 'invalid',
          message:
            d.version < next
              ? `${d.id} version ${d.version} is already published; the next version is ${next}`
              : `the next version of ${d.id} is ${next}, not ${d.version}`,
        });
      }
      top.set(d.id, Math.max(top.get(d.id) ?? 0, d.version));
    });
  }
  return {
    ok: problems.length === 0,
    versions: defs.map((d) => ({ schemeId: d.id, version: d.version })),
    problems,
  };
}

/** Publishes every version given, all or nothing; refuses with every problem listed. */
export function publishSchemes(
  store: BackendStore,
  input: unknown,
  now: number,
): { schemeId: string; version: number }[] {
  return store.transaction(() => {
    const c = checkSchemeInput(store, input);
    if (!c.ok) {
      throw new AppError('scheme-refused', summarise(c.problems), {
        details: { problems: c.problems },
      });
    }
    const list = (Array.isArray(input) ? input : [input]).map((v) =>
      SchemeDefinitionSchema.parse(v),
    );
    const usedBefore = eligibilityAttributesOf(store.listSchemes());
    for (const def of list) {
      store.publishScheme(def, now);
      store.addChange('scheme', `${def.id}@${def.version}`, now);
    }
    resyncNewlyUsedAttributes(store, usedBefore, now);
    return c.versions;
  });
}

/**
 * Kiosks are sent only the categories and consents that published schemes use: when a
 * new version starts using one, the cards of residents who have it are sent again.
 */
function resyncNewlyUsedAttributes(
  store: BackendStore,
  before: ReturnType<typeof eligibilityAttributesOf>,
  now: number,
): void {
  const db = dbOf(store);
  if (!db) return;
  const attrs = new ResidentAttributeStore(db);
  const after = eligibilityAttributesOf(store.listSchemes());
  const refs = new Set<string>();
  for (const kind of ['category', 'consent'] as const) {
    const was = kind === 'category' ? before.categories : before.consents;
    for (const v of kind === 'category' ? after.categories : after.consents) {
      if (!was.has(v)) for (const ref of attrs.holders(kind, v)) refs.add(ref);
    }
  }
  attrs.resyncCards(store, [...refs].sort(), now);
}

function summarise(problems: readonly SchemeProblem[]): string {
  const unfair = problems.filter((p) => p.kind === 'unfair').length;
  const first = problems[0];
  const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  return `scheme refused (${problems.length} problem${problems.length === 1 ? '' : 's'}${
    unfair > 0 ? `, ${unfair} unfair` : ''
  }): ${where}${first?.message ?? ''}`;
}

/** What the admin list shows of each published version. */
export function listPublished(store: BackendStore): {
  schemeId: string;
  version: number;
  name: string;
  wallet: string;
  validFrom: string;
  validTo: string | null;
}[] {
  return store.listSchemes().map((s) => ({
    schemeId: s.id,
    version: s.version,
    name: s.name,
    wallet: s.wallet,
    validFrom: s.validFrom,
    validTo: s.validTo ?? null,
  }));
}
