import { Command, Option } from 'commander';
import { loadDemoData } from '../demo/demo-data.js';
import { printJson, withContext } from './context.js';
import { UsageError } from './main.js';

const intArg = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new Error(`not a whole number: ${v}`);
  return Number(v);
};

export function dbCommand(): Command {
  return new Command('db')
    .description('database maintenance')
    .addCommand(
      new Command('migrate')
        .description('create or upgrade the backend database')
        .action(withContext((ctx) => printJson({ ok: true, cursor: ctx.store.latestCursor() }))),
    );
}

export function serviceCommand(): Command {
  return new Command('service').description('council services').addCommand(
    new Command('add')
      .requiredOption('--id <id>', 'service id, s-<name>')
      .requiredOption('--name <name>')
      .addOption(
        new Option('--kind <kind>')
          .choices(['leisure', 'library', 'gp-drop-in', 'learning', 'community', 'transport'])
          .makeOptionMandatory(),
      )
      .action(
        withContext((ctx, o: { id: string; name: string; kind: 'leisure' }) => {
          ctx.admin.addService(o);
          printJson({ serviceId: o.id });
        }),
      ),
  );
}

export function venueCommand(): Command {
  return new Command('venue').description('venues').addCommand(
    new Command('add')
      .requiredOption('--id <id>', 'venue id, v-<name>')
      .requiredOption('--name <name>')
      .requiredOption(
        '--type <type>',
        'library | leisure-centre | gp-drop-in | community-centre | college | outlet',
      )
      .requiredOption('--ward <ward>')
      .requiredOption('--service <id...>', 'services offered here')
      .option('--allow-uid-only', 'accept plain-UID cards here (legacy policy)', false)
      .action(
        withContext(
          (
            ctx,
            o: {
              id: string;
              name: string;
              type: string;
              ward: string;
              service: string[];
              allowUidOnly: boolean;
            },
          ) => {
            ctx.admin.addVenue({
              id: o.id,
              name: o.name,
              type: o.type as 'library',
              ward: o.ward,
              allowUidOnly: o.allowUidOnly,
              services: o.service,
            });
            printJson({ venueId: o.id });
          },
        ),
      ),
  );
}

export function residentCommand(): Command {
  return new Command('resident').description('residents (pseudonymous)').addCommand(
    new Command('add')
      .option('--first-name <name>', 'display first name (optional)')
      .requiredOption('--age-band <band>', '0-12 | 13-19 | 20-29 | 30-44 | 45-64 | 65-74 | 75+')
      .requiredOption('--ward <ward>')
      .action(
        withContext((ctx, o: { firstName?: string; ageBand: string; ward: string }) => {
          const ref = ctx.admin.addResident({
            firstName: o.firstName ?? null,
            ageBand: o.ageBand as '13-19',
            ward: o.ward,
          });
          printJson({ residentRef: ref });
        }),
      ),
  );
}

/** Card issuing and blocking; the card crypto tools are added beside these. */
export function addCardAdminCommands(card: Command): Command {
  card.addCommand(
    new Command('issue')
      .description('register a card to a resident (stores only the HMAC of its UID)')
      .requiredOption('--resident <ref>')
      .requiredOption('--uid <hex>')
      .option('--technology <tech>', 'ntag424 | desfire | ntag21x | hid-fob | simulated', 'ntag424')
      .option('--key-version <n>', 'read-key version the card was personalised with', intArg)
      .action(
        withContext(
          (ctx, o: { resident: string; uid: string; technology: string; keyVersion?: number }) => {
            const hash = ctx.admin.issueCard({
              residentRef: o.resident,
              uid: o.uid,
              technology: o.technology as 'ntag424',
              keyVersion: o.keyVersion ?? null,
            });
            printJson({ cardHash: hash });
          },
        ),
      ),
  );
  card.addCommand(
    new Command('block')
      .description('hotlist a card (lost or stolen)')
      .requiredOption('--uid <hex>')
      .action(
        withContext((ctx, o: { uid: string }) => {
          printJson({
            cardHash: ctx.admin.setCardStatusByUid(o.uid, 'blocked'),
            status: 'blocked',
          });
        }),
      ),
  );
  return card;
}

export function kioskCommand(): Command {
  return new Command('kiosk')
    .description('kiosks')
    .addCommand(
      new Command('add')
        .description('create a kiosk; prints its one-time provisioning code')
        .requiredOption('--id <id>', 'kiosk id, k-<name>')
        .requiredOption('--venue <id>')
        .requiredOption('--service <id>', 'the service this kiosk records')
        .option(
          '--enrolment-desk',
          'an attended enrolment desk: may enrol residents and replace cards',
          false,
        )
        .action(
          withContext(
            (ctx, o: { id: string; venue: string; service: string; enrolmentDesk: boolean }) => {
              printJson(
                ctx.admin.addKiosk({
                  id: o.id,
                  venueId: o.venue,
                  serviceId: o.service,
                  enrolmentDesk: o.enrolmentDesk,
                }),
              );
            },
          ),
        ),
    )
    .addCommand(
      new Command('desk')
        .description('make a kiosk an enrolment desk (--on) or stop it being one (--off)')
        .requiredOption('--id <id>')
        .addOption(new Option('--on', 'accept its enrolments and card replacements'))
        .addOption(new Option('--off', 'refuse them from now on').conflicts('on'))
        .action(
          withContext((ctx, o: { id: string; on?: boolean; off?: boolean }) => {
            if (o.on === o.off) throw new UsageError('say --on or --off');
            printJson(ctx.admin.setEnrolmentDesk(o.id, o.on === true));
          }),
        ),
    )
    .addCommand(
      new Command('revoke')
        .description('refuse a lost or stolen kiosk’s signing key from now on')
        .requiredOption('--id <id>')
        .action(
          withContext((ctx, o: { id: string }) => {
            ctx.admin.revokeKiosk(o.id);
            printJson({ kioskId: o.id, status: 'revoked' });
          }),
        ),
    )
    .addCommand(
      new Command('list').action(
        withContext((ctx) => {
          printJson(
            ctx.store.listKiosks().map((k) => ({
              kioskId: k.id,
              venueId: k.venueId,
              status: k.status,
              ackSeq: k.ackSeq,
              lastPushAt: k.lastPushAt,
              lastPullAt: k.lastPullAt,
              clockOffsetMs: k.clockOffsetMs,
              enrolmentDesk: ctx.admin.isEnrolmentDesk(k.id),
            })),
          );
        }),
      ),
    );
}

export function demoCommand(): Command {
  return new Command('demo').description('demo data').addCommand(
    new Command('load').description('load the demo council into an empty database').action(
      withContext((ctx) => {
        if (ctx.store.listVenues().length > 0) throw new Error('database already has venues');
        printJson(loadDemoData(ctx.admin));
      }),
    ),
  );
}
