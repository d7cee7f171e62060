import { Command } from 'commander';
import { ensureBackendSecrets } from '../keys.js';
import { newPin } from '../staff/pin-hash.js';
import { StaffService } from '../staff/staff-service.js';
import { openCliContext, printJson } from './context.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function withStaff<A extends unknown[]>(
  fn: (staff: StaffService, ...args: A) => void | Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = openCliContext(cmd);
    try {
      const secrets = ensureBackendSecrets(ctx.store);
      await fn(new StaffService(ctx.store.db, secrets.cardHashKey), ...args);
    } finally {
      ctx.close();
    }
  };
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/**
 * `clubcard staff …`: venue staff for kiosk staff mode. A new PIN is generated and
 * printed once unless given on standard input; PINs are never stored in clear.
 */
export function staffCommand(): Command {
  const card = new Command('card')
    .description('staff cards')
    .addCommand(
      new Command('issue')
        .description('issue a staff card to a staff member')
        .requiredOption('--staff <ref>')
        .requiredOption('--uid <hex>')
        .action(
          withStaff((staff, o: { staff: string; uid: string }) => {
            staff.issueCard(o.staff, { uid: o.uid });
            printJson({ staffRef: o.staff, card: 'issued' });
          }),
        ),
    )
    .addCommand(
      new Command('block')
        .description('block a lost staff card at once (kiosks refuse it after their next pull)')
        .requiredOption('--uid <hex>')
        .action(
          withStaff((staff, o: { uid: string }) => {
            printJson({ staffRef: staff.blockCard({ uid: o.uid }), card: 'blocked' });
          }),
        ),
    );
  return new Command('staff')
    .description('venue staff (kiosk staff mode: staff card + PIN)')
    .addCommand(
      new Command('add')
        .description('add a staff member; prints a generated PIN unless --pin-stdin')
        .requiredOption('--first-name <name>')
        .option('--venue <id>', 'a venue they work at (repeatable)', collect, [])
        .option('--all-venues', 'every venue', false)
        .option('--pin-stdin', 'read the PIN from standard input', false)
        .action(
          withStaff(
            async (
              staff,
              o: { firstName: string; venue: string[]; allVenues: boolean; pinStdin: boolean },
            ) => {
              const pin = o.pinStdin ? await readStdin() : newPin();
              const staffRef = staff.add({
                firstName: o.firstName,
                venues: o.allVenues ? ['*'] : o.venue,
                pin,
              });
              printJson({ staffRef, ...(o.pinStdin ? {} : { pin }) });
            },
          ),
        ),
    )
    .addCommand(
      new Command('pin')
        .description('set a new PIN; prints a generated one unless --pin-stdin')
        .requiredOption('--staff <ref>')
        .option('--pin-stdin', 'read the PIN from standard input', false)
        .action(
          withStaff(async (staff, o: { staff: string; pinStdin: boolean }) => {
            const pin = o.pinStdin ? await readStdin() : newPin();
            staff.setPin(o.staff, { pin });
            printJson({ staffRef: o.staff, ...(o.pinStdin ? {} : { pin }) });
          }),
        ),
    )
    .addCommand(
      new Command('disable')
        .description('disable a staff member everywhere')
        .requiredOption('--staff <ref>')
        .action(
          withStaff((staff, o: { staff: string }) => {
            staff.setStatus(o.staff, 'disabled');
            printJson({ staffRef: o.staff, status: 'disabled' });
          }),
        ),
    )
    .addCommand(
      new Command('list').description('list staff (no PINs)').action(
        withStaff((staff) => {
          printJson(staff.list());
        }),
      ),
    )
    .addCommand(card);
}
