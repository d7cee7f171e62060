import { Command } from 'commander';
import { printJson } from './context.js';
import { UsageError } from './main.js';
import { withRewards } from './scheme-commands.js';

const intArg = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new UsageError(`not a whole number: ${v}`);
  return Number(v);
};

/**
 * `clubcard grant …`: the allowance scheduler, staff-approved top-ups, residents'
 * eligibility categories and consents, voucher codes. While the backend runs, its engine
 * state notices these commits (SQLite data_version) and reloads what it caches.
 */
export function grantCommand(): Command {
  return new Command('grant')
    .description('council grants: allowances, top-ups, eligibility, voucher codes')
    .addCommand(
      new Command('run-allowances')
        .description('issue every scheduled allowance due (one per eligible resident per period)')
        .option('--at <instant>', 'as at this instant (ISO 8601; default now)')
        .action(
          withRewards((rewards, o: { at?: string }) => {
            printJson(rewards.grants.runAllowances(o.at ? { at: o.at } : {}));
          }),
        ),
    )
    .addCommand(
      new Command('top-up')
        .description('a one-off top-up for one resident')
        .requiredOption('--resident <ref>')
        .requiredOption('--scheme <id>')
        .requiredOption('--grant <id>', 'the scheme’s top-up grant id')
        .requiredOption('--amount <n>', 'in the wallet’s unit (pence, points, minutes)', intArg)
        .option('--approved-by <staff>', 'approving staff member, st-<name>')
        .action(
          withRewards(
            (
              rewards,
              o: {
                resident: string;
                scheme: string;
                grant: string;
                amount: number;
                approvedBy?: string;
              },
            ) => {
              printJson(
                rewards.grants.topUp({
                  residentRef: o.resident,
                  schemeId: o.scheme,
                  grantId: o.grant,
                  amount: o.amount,
                  approvedBy: o.approvedBy ?? null,
                }),
              );
            },
          ),
        ),
    )
    .addCommand(
      new Command('eligibility')
        .description('add or remove a resident’s eligibility categories and consents')
        .requiredOption('--resident <ref>')
        .option('--add-category <c...>', 'e.g. prison-leaver, in-education', [])
        .option('--remove-category <c...>', '', [])
        .option('--add-consent <c...>', 'e.g. time-bank', [])
        .option('--remove-consent <c...>', '', [])
        .action(
          withRewards(
            (
              rewards,
              o: {
                resident: string;
                addCategory: string[];
                removeCategory: string[];
                addConsent: string[];
                removeConsent: string[];
              },
            ) => {
              printJson(
                rewards.grants.setAttributes({
                  residentRef: o.resident,
                  add: { categories: o.addCategory, consents: o.addConsent },
                  remove: { categories: o.removeCategory, consents: o.removeConsent },
                }),
              );
            },
          ),
        ),
    )
    .addCommand(
      new Command('voucher-code')
        .description('issue a voucher code for a resident (shown once; outlets accept it)')
        .requiredOption('--resident <ref>')
        .action(
          withRewards((rewards, o: { resident: string }) => {
            printJson(rewards.grants.issueVoucherCode(o.resident));
          }),
        ),
    );
}

/** `clubcard outlet …`: approved outlets without a kiosk, and their API keys. */
export function outletCommand(): Command {
  return new Command('outlet')
    .description('approved outlets (redeem through the outlet API)')
    .addCommand(
      new Command('add')
        .requiredOption('--id <id>', 'outlet id, o-<name>')
        .requiredOption('--name <name>')
        .requiredOption('--category <c...>', 'categories it is approved for, e.g. work-clothes')
        .action(
          withRewards((rewards, o: { id: string; name: string; category: string[] }) => {
            printJson(rewards.outlets.add({ id: o.id, name: o.name, categories: o.category }));
          }),
        ),
    )
    .addCommand(
      new Command('key')
        .description('create an API key for an outlet (shown once, stored hashed)')
        .requiredOption('--id <id>')
        .action(
          withRewards((rewards, o: { id: string }) => {
            printJson(rewards.outlets.issueKey(o.id));
          }),
        ),
    )
    .addCommand(
      new Command('revoke-keys').requiredOption('--id <id>').action(
        withRewards((rewards, o: { id: string }) => {
          printJson(rewards.outlets.revokeKeys(o.id));
        }),
      ),
    )
    .addCommand(
      new Command('list').action(
        withRewards((rewards) => {
          printJson(rewards.outlets.list());
        }),
      ),
    );
}
