import { Command, CommanderError } from 'commander';

/**
 * The `clubcard` admin CLI. Machine-readable output (JSON) goes to stdout, logs and
 * errors to stderr. Exit codes: 0 ok, 1 a negative answer (e.g. a card that is not
 * valid), 2 bad usage or input.
 */
export function buildProgram(): Command {
  const program = new Command('clubcard')
    .description('Public Service Clubcard administration')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`clubcard: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`clubcard: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** Bad arguments or input: reported on stderr with exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
