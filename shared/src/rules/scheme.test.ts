import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgeBandSchema } from '../protocol/sync.js';
import { versionsInForce } from './compile.js';
import { EXAMPLE_SCHEMES_DIR, loadExampleSchemes, parseSchemeFile } from './example-schemes.js';
import {
  SchemeAgeBandSchema,
  SchemeFileSchema,
  formatSchemeProblems,
  validateScheme,
  type SchemeDefinitionInput,
  type SchemeProblem,
} from './scheme.js';

function base(over: Partial<SchemeDefinitionInput> = {}): SchemeDefinitionInput {
  return {
    id: 'test-scheme',
    version: 1,
    name: 'Test scheme',
    wallet: 'living-credit',
    validFrom: '2025-01-01T00:00:00Z',
    earning: [
      {
        id: 'swim',
        trigger: { eventType: 'visit', serviceKinds: ['leisure'] },
        amount: { kind: 'fixed', value: 10 },
      },
    ],
    ...over,
  };
}

function problems(input: unknown): SchemeProblem[] {
  const r = validateScheme(input);
  return r.ok ? [] : r.problems;
}

function unfair(input: unknown): string[] {
  return problems(input)
    .filter((p) => p.kind === 'unfair')
    .map((p) => p.message);
}

describe('example schemes', () => {
  it('every file in shared/schemes is a valid, fair scheme file', () => {
    const files = readdirSync(EXAMPLE_SCHEMES_DIR).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual([
      'learning-points.json',
      'living-credits.json',
      'off-peak-leisure.json',
      'prison-leaver-vouchers.json',
      'time-bank.json',
      'ward-recycling-target.json',
      'youth-leisure-credit.json',
    ]);
    for (const f of files) {
      const r = SchemeFileSchema.safeParse(
        JSON.parse(readFileSync(new URL(f, EXAMPLE_SCHEMES_DIR), 'utf8')),
      );
      expect(r.error?.issues ?? [], f).toEqual([]);
    }
    expect(loadExampleSchemes().map((s) => `${s.id}@${s.version}`)).toContain(
      'youth-leisure-credit@2',
    );
  });

  it('evaluates an event under the version in force when it happened', () => {
    const schemes = loadExampleSchemes();
    const youth = (at: string) =>
      versionsInForce(schemes, at).find((s) => s.id === 'youth-leisure-credit')?.version;
    expect(youth('2025-03-31T22:59:59Z')).toBe(1);
    // v2 starts at midnight London time (BST), 23:00 UTC the day before.
    expect(youth('2025-03-31T23:00:00Z')).toBe(2);
    expect(youth('2023-12-31T23:59:59Z')).toBeUndefined();
  });

  it('orders schemes by priority, then id', () => {
    const ids = versionsInForce(loadExampleSchemes(), '2025-06-01T00:00:00Z').map((s) => s.id);
    expect(ids).toEqual([
      'youth-leisure-credit',
      'learning-points',
      'living-credits',
      'time-bank',
      'prison-leaver-vouchers',
      'off-peak-leisure',
      'ward-recycling-target',
    ]);
  });

  it('ends a scheme at its validTo', () => {
    const s = validateScheme(base({ validTo: '2025-02-01T00:00:00Z' }));
    if (!s.ok) throw new Error(formatSchemeProblems(s.problems));
    expect(versionsInForce([s.scheme], '2025-01-31T23:59:59Z')).toHaveLength(1);
    expect(versionsInForce([s.scheme], '2025-02-01T00:00:00Z')).toHaveLength(0);
  });

  it('keeps its age bands in step with the protocol', () => {
    expect(SchemeAgeBandSchema.options).toEqual(AgeBandSchema.options);
  });
});

describe('invalid schemes are refused with reasons', () => {
  it('refuses malformed data', () => {
    const p = problems({ ...base(), wallet: 'gold-stars', version: 0 });
    expect(p.map((x) => x.path.join('.'))).toEqual(expect.arrayContaining(['wallet', 'version']));
    expect(p.every((x) => x.kind === 'invalid')).toBe(true);
  });

  it('refuses unknown fields (typos must not silently disable a rule)', () => {
    const p = problems(
      base({
        earning: [
          {
            id: 'x',
            trigger: { eventType: 'visit' },
            amount: { kind: 'fixed', value: 1 },
            limts: [],
          },
        ] as never,
      }),
    );
    expect(p[0]?.message).toMatch(/unrecognized key/i);
  });

  it('refuses inconsistent definitions', () => {
    const dup = problems(
      base({
        earning: [
          { id: 'a', trigger: { eventType: 'visit' }, amount: { kind: 'fixed', value: 1 } },
          { id: 'a', trigger: { eventType: 'visit' }, amount: { kind: 'fixed', value: 2 } },
        ],
      }),
    );
    expect(dup.map((p) => p.message)).toEqual([
      expect.stringMatching(/rule id "a" is already used/),
    ]);

    expect(problems(base({ wallet: 'voucher:someone-else' }))[0]?.message).toMatch(
      /voucher:test-scheme/,
    );
    expect(
      problems(
        base({
          earning: [
            {
              id: 'm',
              trigger: { eventType: 'visit' },
              amount: { kind: 'per-minute', amount: 1, everyMinutes: 60 },
            },
          ],
        }),
      )[0]?.message,
    ).toMatch(/session/);
    expect(problems(base({ validTo: '2024-01-01T00:00:00Z' }))[0]?.message).toMatch(
      /validTo must be after validFrom/,
    );
    expect(
      problems(
        base({
          earning: [
            {
              id: 'x',
              trigger: { eventType: 'visit' },
              amount: { kind: 'fixed', value: 1 },
              limits: [
                { period: 'day', maxEvents: 1 },
                { period: 'day', maxAmount: 5 },
              ],
            },
          ],
        }),
      )[0]?.message,
    ).toMatch(/same period/);
    expect(
      problems(
        base({
          timeBank: { creditLimitMinutes: 0, maxMinutesPerRecord: 60, confirmers: ['receiver'] },
        }),
      )[0]?.message,
    ).toMatch(/time-credit/);
  });

  it('refuses a bad file, naming every problem', () => {
    expect(() =>
      parseSchemeFile(JSON.stringify([base(), { ...base(), version: 1 }]), 'x.json'),
    ).toThrow(/x.json is refused:\n1.version: versions must be listed in increasing order/);
  });
});

describe('unfair schemes are refused, saying why', () => {
  it('refuses a rule that takes credits away', () => {
    const msgs = unfair(
      base({
        earning: [
          {
            id: 'no-show-fine',
            trigger: { eventType: 'visit', serviceKinds: ['leisure'] },
            amount: { kind: 'fixed', value: -50 },
          },
        ],
      }),
    );
    expect(msgs).toEqual([
      expect.stringMatching(
        /^Unfair: earning rule "no-show-fine" takes credits away \(amount -50\)\. .*something the resident did not do/,
      ),
    ]);
  });

  it('refuses a rule that lowers an entitlement because of a health visit', () => {
    const msgs = unfair(
      base({
        earning: [
          {
            id: 'gp-penalty',
            trigger: { eventType: 'visit', serviceKinds: ['gp-drop-in'] },
            amount: { kind: 'fixed', value: -20 },
          },
        ],
      }),
    );
    expect(msgs).toHaveLength(2);
    expect(msgs[1]).toMatch(/lowers what a resident gets when they use a health service/);

    const cheaper = unfair(
      base({
        earning: [
          {
            id: 'any-visit',
            trigger: { eventType: 'visit' },
            amount: { kind: 'fixed', value: 10 },
            offPeak: {
              windows: [{ days: ['mon'], from: '09:00', to: '12:00' }],
              multiplierPercent: 50,
            },
          },
        ],
      }),
    );
    expect(cheaper).toEqual([
      expect.stringMatching(/pays less than its full amount \(50%\).*could match a GP drop-in/),
    ]);

    const excluded = unfair(
      base({
        grants: [
          {
            kind: 'allowance',
            id: 'a',
            period: 'month',
            amount: 100,
            eligibility: { categories: { noneOf: ['health:frequent-gp-user'] } },
          },
        ],
      }),
    );
    expect(excluded).toEqual([
      expect.stringMatching(
        /excludes residents because of health data \(health:frequent-gp-user\)/,
      ),
    ]);
  });

  it('allows health data to widen eligibility for the resident’s own benefit', () => {
    expect(
      problems(
        base({
          grants: [
            {
              kind: 'allowance',
              id: 'carers',
              period: 'month',
              amount: 100,
              eligibility: { categories: { anyOf: ['health:carer'] } },
            },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('refuses health-service visits as a trigger for a collective reward', () => {
    const ward = (trigger: object) =>
      base({
        wallet: 'neighbourhood-budget',
        earning: [],
        wardTargets: [
          {
            id: 'busy-ward',
            trigger: trigger as never,
            ward: 'resident-home',
            period: 'month',
            target: 100,
            reward: 1000,
          },
        ],
      });
    expect(unfair(ward({ eventType: 'visit', serviceKinds: ['gp-drop-in'] }))).toEqual([
      expect.stringMatching(
        /^Unfair: ward target "busy-ward" counts health-service visits towards a reward for the whole ward/,
      ),
    ]);
    expect(unfair(ward({ eventType: 'visit' }))[0]).toMatch(
      /list serviceKinds without "gp-drop-in"/,
    );
    expect(problems(ward({ eventType: 'visit', serviceKinds: ['library'] }))).toEqual([]);
  });

  it('refuses negative grants and ward rewards', () => {
    expect(unfair(base({ grants: [{ kind: 'top-up', id: 'claw', maxAmount: -100 }] }))[0]).toMatch(
      /grant "claw" takes credits away/,
    );
    expect(
      unfair(
        base({
          wallet: 'neighbourhood-budget',
          earning: [],
          wardTargets: [
            {
              id: 'fine',
              trigger: { eventType: 'ward-contribution', measures: ['litter'] },
              ward: 'event',
              period: 'month',
              target: 1,
              reward: -5,
            },
          ],
        }),
      )[0],
    ).toMatch(/takes money away from a ward/);
  });

  it('refuses any scheme with a negative amount anywhere (property)', () => {
    const where = fc.constantFrom('earning', 'allowance', 'top-up', 'per-minute');
    fc.assert(
      fc.property(
        where,
        fc.integer({ min: -1_000_000, max: -1 }),
        fc.constantFrom('leisure', 'gp-drop-in', 'library'),
        (w, v, kind) => {
          const s =
            w === 'earning'
              ? base({
                  earning: [
                    {
                      id: 'r',
                      trigger: { eventType: 'visit', serviceKinds: [kind as 'leisure'] },
                      amount: { kind: 'fixed', value: v },
                    },
                  ],
                })
              : w === 'per-minute'
                ? base({
                    earning: [
                      {
                        id: 'r',
                        trigger: { eventType: 'session' },
                        amount: { kind: 'per-minute', amount: v, everyMinutes: 30 },
                      },
                    ],
                  })
                : w === 'allowance'
                  ? base({ grants: [{ kind: 'allowance', id: 'g', period: 'week', amount: v }] })
                  : base({ grants: [{ kind: 'top-up', id: 'g', maxAmount: v }] });
          const r = validateScheme(s);
          expect(r.ok).toBe(false);
          if (!r.ok)
            expect(
              r.problems.some(
                (p) => p.kind === 'unfair' && p.message.includes('takes credits away'),
              ),
            ).toBe(true);
        },
      ),
    );
  });
});
