import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { AppError } from '@clubcard/shared';
import {
  addCardAdminCommands,
  dbCommand,
  demoCommand,
  kioskCommand,
  residentCommand,
  serviceCommand,
  venueCommand,
} from './admin-commands.js';
import { cardCommand } from './card.js';
import { grantCommand, outletCommand } from './grant-commands.js';
import { schemeCommand } from './scheme-commands.js';
import { operatorCommand } from './operator-commands.js';
import { staffCommand } from './staff-commands.js';
import { analyticsCommand, withCountyGenerator } from './analytics-commands.js';
import { offersCommand, residentAccessCommand } from './offer-commands.js';

/** Bad arguments or input: reported on stderr with exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The `clubcard` admin CLI. Machine-readable output (JSON) goes to stdout, logs and
 * errors to stderr. Exit codes: 0 ok, 1 a negative answer (e.g. a card that is not
 * valid) or a refused operation, 2 bad usage or input.
 */
export function buildProgram(): Command {
  const program = new Command('clubcard')
    .description('Public Service Clubcard administration')
    .option('--data-dir <dir>', 'data folder (default ./data, or CLUBCARD_DATA_DIR)')
    .option('--db <file>', 'backend SQLite file (default <data-dir>/backend.sqlite)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const card = cardCommand().description('cards: issue, block, and crypto tools');
  addCardAdminCommands(card);
  program
    .addCommand(dbCommand())
    .addCommand(serviceCommand())
    .addCommand(venueCommand())
    .addCommand(residentCommand())
    .addCommand(card)
    .addCommand(kioskCommand())
    .addCommand(schemeCommand())
    .addCommand(grantCommand())
    .addCommand(outletCommand())
    .addCommand(withCountyGenerator(demoCommand()))
    .addCommand(analyticsCommand())
    .addCommand(operatorCommand())
    .addCommand(staffCommand())
    .addCommand(offersCommand())
    .addCommand(residentAccessCommand());
  // Subcommands inherit exitOverride and output settings.
  const inherit = (c: Command): void => {
    for (const sub of c.commands) {
      sub.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      ) {
        return 0;
      }
      return 2;
    }
    if (e instanceof UsageError || e instanceof ZodError) {
      const msg =
        e instanceof ZodError
          ? e.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')
          : e.message;
      process.stderr.write(`clubcard: ${msg}\n`);
      return 2;
    }
    if (e instanceof AppError) {
      process.stderr.write(`clubcard: ${e.code}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`clubcard: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
