import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { formatSchemeProblems, type SchemeProblem } from '@clubcard/shared';
import { loadExampleSchemes } from '@clubcard/shared/rules/example-schemes';
import { openBackend } from '../app.js';
import { dbFileOf, loadBackendConfig } from '../config.js';
import { SqliteEngineState } from '../rewards/engine-state.js';
import { RewardsService } from '../rewards/rewards-service.js';
import { printJson } from './context.js';
import { UsageError } from './main.js';

/** Opens the backend database named by the global options with the reward services. */
export function withRewards<A extends unknown[]>(
  fn: (rewards: RewardsService, ...args: A) => void,
): (...args: A) => void {
  return (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const g = cmd.optsWithGlobals<{ dataDir?: string; db?: string }>();
    const config = loadBackendConfig({
      env: process.env,
      overrides: {
        ...(g.dataDir ? { dataDir: g.dataDir } : {}),
        ...(g.db ? { dbFile: g.db } : {}),
      },
    });
    const { store, secrets } = openBackend(config, dbFileOf(config));
    try {
      fn(new RewardsService(store, new SqliteEngineState(store.db), secrets.cardHashKey), ...args);
    } finally {
      store.close();
    }
  };
}

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${path} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function reportProblems(problems: readonly SchemeProblem[]): void {
  process.stderr.write(`clubcard: scheme refused:\n${formatSchemeProblems(problems)}\n`);
  process.exitCode = 1;
}

const intArg = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new UsageError(`not a whole number: ${v}`);
  return Number(v);
};

/**
 * `clubcard scheme validate|publish|list|simulate`. A scheme file holds one version or
 * an array of versions. Refused schemes (invalid, unfair, wrong version) exit 1 with
 * every problem on stderr and nothing published; unreadable input exits 2.
 */
export function schemeCommand(): Command {
  return new Command('scheme')
    .description('reward schemes')
    .addCommand(
      new Command('validate')
        .description('check a scheme file without publishing it')
        .requiredOption('--file <path>', 'scheme version or scheme file (JSON)')
        .action(
          withRewards((rewards, o: { file: string }) => {
            const c = rewards.validate(readJsonFile(o.file));
            printJson(c);
            if (!c.ok) reportProblems(c.problems);
          }),
        ),
    )
    .addCommand(
      new Command('publish')
        .description('publish a scheme file (all its new versions, or nothing)')
        .option('--file <path>', 'scheme version or scheme file (JSON)')
        .option('--examples', 'publish the example schemes of shared/schemes not yet published')
        .action(
          withRewards((rewards, o: { file?: string; examples?: boolean }) => {
            if ((o.file === undefined) === (o.examples === undefined)) {
              throw new UsageError('give exactly one of --file or --examples');
            }
            if (o.file !== undefined) {
              const input = readJsonFile(o.file);
              const c = rewards.validate(input);
              if (!c.ok) {
                printJson(c);
                reportProblems(c.problems);
                return;
              }
              printJson({ published: rewards.publish(input) });
              return;
            }
            const have = new Set(rewards.list().map((s) => `${s.schemeId}@${s.version}`));
            const todo = loadExampleSchemes().filter((s) => !have.has(`${s.id}@${s.version}`));
            printJson({ published: todo.length > 0 ? rewards.publish(todo) : [] });
          }),
        ),
    )
    .addCommand(
      new Command('list').description('published scheme versions').action(
        withRewards((rewards) => {
          printJson(rewards.list());
        }),
      ),
    )
    .addCommand(
      new Command('simulate')
        .description(
          'replay past events under a draft scheme: its cost and who would benefit (k-anonymised)',
        )
        .requiredOption('--file <path>', 'draft scheme version (JSON)')
        .option('--from <instant>', 'first event time (ISO 8601)')
        .option('--to <instant>', 'end of the window (ISO 8601, exclusive)')
        .option('--k <n>', 'smallest cell shown, in distinct residents', intArg, 10)
        .action(
          withRewards((rewards, o: { file: string; from?: string; to?: string; k: number }) => {
            const draft = readJsonFile(o.file);
            const c = rewards.validate(draft);
            const unpublishable = c.problems.filter(
              (p) => !/already published|next version/.test(p.message),
            );
            if (unpublishable.length > 0) {
              printJson({ ok: false, problems: unpublishable });
              reportProblems(unpublishable);
              return;
            }
            printJson(
              rewards.simulate({
                scheme: draft,
                k: o.k,
                ...(o.from ? { from: o.from } : {}),
                ...(o.to ? { to: o.to } : {}),
              }),
            );
          }),
        ),
    );
}
