import { Command, Option } from 'commander';
import { AgeBandSchema } from '@clubcard/shared';
import { Analytics } from '../analytics/analytics.js';
import { dayOfIsoDate } from '../analytics/london-slots.js';
import { progressBar } from '../analytics/progress.js';
import type { AnalyticsFilters } from '../analytics/queries.js';
import { generateCounty } from '../demo/county.js';
import { ensureBackendSecrets } from '../keys.js';
import { openCliContext, printJson, type CliContext } from './context.js';

/**
 * `clubcard analytics …` (rebuild, segment, advance, query) and `clubcard demo generate`.
 * JSON results go to stdout; progress bars go to stderr. Nothing personal is printed:
 * answers are the same k-anonymised aggregates the dashboard gets.
 */
const wholeNumber = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new Error(`not a whole number: ${v}`);
  return Number(v);
};

/** Runs an async action with an open CLI context, closing it afterwards. */
function withAsyncContext<A extends unknown[]>(
  fn: (ctx: CliContext, ...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = openCliContext(cmd);
    try {
      await fn(ctx, ...args);
    } finally {
      ctx.close();
    }
  };
}

function phaseBars(): {
  progress: (phase: string, done: number, total: number) => void;
  end: () => void;
} {
  const bars = new Map<string, ReturnType<typeof progressBar>>();
  let current = '';
  return {
    progress(phase, done, total) {
      if (phase !== current) {
        bars.get(current)?.done();
        current = phase;
        bars.set(phase, progressBar(phase.padEnd(10)));
      }
      bars.get(phase)?.update(done, total);
    },
    end() {
      bars.get(current)?.done();
    },
  };
}

interface QueryCliOptions {
  venue?: string;
  service?: string;
  ageBand?: string;
  ward?: string;
  from?: string;
  to?: string;
  k?: number;
}

function filtersOf(o: QueryCliOptions): AnalyticsFilters {
  return {
    ...(o.venue ? { venueId: o.venue } : {}),
    ...(o.service ? { serviceId: o.service } : {}),
    ...(o.ageBand ? { ageBand: AgeBandSchema.parse(o.ageBand) } : {}),
    ...(o.ward ? { ward: o.ward } : {}),
    ...(o.from ? { from: o.from } : {}),
    ...(o.to ? { to: o.to } : {}),
  };
}

export function analyticsCommand(): Command {
  const analytics = new Command('analytics').description(
    'usage rollups, segmentation and k-anonymised answers',
  );
  analytics.addCommand(
    new Command('rebuild')
      .description('rebuild every feature row (and optionally the usage rollup) from the event log')
      .option('--rollups', 'also rebuild the usage rollup', false)
      .option(
        '--analysis-date <date>',
        'last day of the 12-month feature window (default: newest event)',
      )
      .option('--workers <n>', 'worker threads for the scan', wholeNumber, 2)
      .action(
        withAsyncContext(
          async (ctx, o: { rollups: boolean; analysisDate?: string; workers: number }) => {
            const a = new Analytics(ctx.store.db);
            const bars = phaseBars();
            const started = Date.now();
            const features = await a.rebuildFeatures({
              workers: o.workers,
              ...(o.analysisDate ? { analysisDay: dayOfIsoDate(o.analysisDate) } : {}),
              progress: (d, t) => bars.progress('features', d, t),
            });
            const cells = o.rollups
              ? a.rebuildRollups((d, t) => bars.progress('rollups', d, t))
              : null;
            bars.end();
            printJson({ ...features, rollupCells: cells, seconds: (Date.now() - started) / 1000 });
          },
        ),
      ),
  );
  analytics.addCommand(
    new Command('segment')
      .description('recompute and publish RFM and behavioural segments from the feature rows')
      .option('--analysis-date <date>', 'analysis day (default: end of the feature window)')
      .option('--seed <n>', 'k-means seed', wholeNumber)
      .option('--k-min <n>', 'smallest k to consider', wholeNumber, 4)
      .option('--k-max <n>', 'largest k to consider', wholeNumber, 10)
      .action(
        withAsyncContext(
          async (ctx, o: { analysisDate?: string; seed?: number; kMin: number; kMax: number }) => {
            const a = new Analytics(ctx.store.db);
            const bars = phaseBars();
            const started = Date.now();
            const s = a.segment({
              kMin: o.kMin,
              kMax: o.kMax,
              ...(o.seed !== undefined ? { seed: o.seed } : {}),
              ...(o.analysisDate ? { analysisDay: dayOfIsoDate(o.analysisDate) } : {}),
              progress: bars.progress,
            });
            bars.end();
            printJson({ ...s, seconds: (Date.now() - started) / 1000 });
            await Promise.resolve();
          },
        ),
      ),
  );
  analytics.addCommand(
    new Command('advance')
      .description('move the feature window to end on a day and re-score changed residents')
      .requiredOption('--date <date>', 'new analysis day (YYYY-MM-DD)')
      .action(
        withAsyncContext(async (ctx, o: { date: string }) => {
          const a = new Analytics(ctx.store.db);
          printJson(a.advanceDay(dayOfIsoDate(o.date)));
          await Promise.resolve();
        }),
      ),
  );
  const query = new Command('query')
    .description('print a k-anonymised dashboard answer as JSON')
    .addOption(
      new Option('--what <query>')
        .choices(['heatmap', 'trend', 'take-up', 'segments', 'profiles'])
        .makeOptionMandatory(),
    )
    .option('--venue <id>')
    .option('--service <id>')
    .option('--age-band <band>')
    .option('--ward <ward>')
    .option('--from <date>')
    .option('--to <date>')
    .option('--k <n>', 'minimum residents behind a number', wholeNumber, 10)
    .action(
      withAsyncContext(async (ctx, o: QueryCliOptions & { what: string }) => {
        const q = new Analytics(ctx.store.db).queries;
        const f = filtersOf(o);
        const opts = { k: o.k ?? 10 };
        switch (o.what) {
          case 'heatmap':
            printJson(q.usageHeatmap(f, opts));
            break;
          case 'trend':
            printJson(q.weeklyTrend(f, opts));
            break;
          case 'take-up':
            printJson(q.takeUp(f, opts));
            break;
          case 'segments':
            printJson(q.segmentSizes(f, opts));
            break;
          default:
            printJson(q.segmentProfiles(f, opts));
        }
        await Promise.resolve();
      }),
    );
  analytics.addCommand(query);
  return analytics;
}

/** Adds `generate` (the synthetic county) to the existing `demo` command. */
export function withCountyGenerator(demo: Command): Command {
  return demo.addCommand(
    new Command('generate')
      .description(
        'generate a synthetic county into an empty database (residents, venues, a year of visits)',
      )
      .requiredOption(
        '--residents <n>',
        'number of residents (about 23.5 visits each a year)',
        wholeNumber,
      )
      .option('--seed <n>', 'random seed (same seed, same county)', wholeNumber, 20_250_101)
      .option('--start <date>', 'first day of the year of visits', '2025-01-01')
      .option('--days <n>', 'days of visits', wholeNumber, 365)
      .option('--no-analytics', 'skip building rollups, features and segments afterwards')
      .action(
        withAsyncContext(
          async (
            ctx,
            o: { residents: number; seed: number; start: string; days: number; analytics: boolean },
          ) => {
            const secrets = ensureBackendSecrets(ctx.store);
            const bars = phaseBars();
            const started = Date.now();
            const county = generateCounty(ctx.store.db, {
              residents: o.residents,
              seed: o.seed,
              start: o.start,
              days: o.days,
              cardHashKey: secrets.cardHashKey,
              progress: bars.progress,
            });
            let segments: number | null = null;
            if (o.analytics) {
              const a = new Analytics(ctx.store.db);
              a.rebuildRollups((d, t) => bars.progress('rollups', d, t));
              await a.rebuildFeatures({ progress: (d, t) => bars.progress('features', d, t) });
              segments = a.segment({ progress: bars.progress }).k;
            }
            bars.end();
            printJson({ ...county, segments, seconds: (Date.now() - started) / 1000 });
          },
        ),
      ),
  );
}
