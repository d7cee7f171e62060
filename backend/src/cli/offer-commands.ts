import { Command } from 'commander';
import { ConsentService } from '../consent/consent-service.js';
import { ResidentAccessService } from '../consent/resident-access.js';
import { OfferService } from '../offers/offer-service.js';
import { openCliContext, printJson, type CliContext } from './context.js';

function withCtx<A extends unknown[]>(
  fn: (ctx: CliContext, ...args: A) => void | Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const ctx = openCliContext(args[args.length - 1] as Command);
    try {
      await fn(ctx, ...args);
    } finally {
      ctx.close();
    }
  };
}

interface CreateOptions {
  segment: string;
  titleEn: string;
  titleCy: string;
  detailEn?: string;
  detailCy?: string;
  service?: string;
  starts: string;
  ends?: string;
  by: string;
}

/**
 * `clubcard offers …`: targeted offers, as analysts make them in the dashboard or API.
 * An offer targets a published segment of at least k residents; kiosks get it at their
 * next pull. Output is JSON, with k-anonymised targeted and took-up counts.
 */
export function offersCommand(): Command {
  return new Command('offers')
    .description('targeted offers for a segment of residents')
    .addCommand(
      new Command('segments').description('the segments an offer can target now').action(
        withCtx((ctx) => {
          printJson({ segments: new OfferService(ctx.store.db).segments() });
        }),
      ),
    )
    .addCommand(
      new Command('create')
        .description('create an offer for a segment (rfm:<segment> or cluster:<n>)')
        .requiredOption('--segment <id>', 'segment id, e.g. rfm:at-risk or cluster:2')
        .requiredOption('--title-en <text>', 'title in English')
        .requiredOption('--title-cy <text>', 'title in Welsh')
        .option('--detail-en <text>', 'detail in English (with --detail-cy)')
        .option('--detail-cy <text>', 'detail in Welsh (with --detail-en)')
        .option('--service <id>', 'the service the offer is about (take-up counts its visits)')
        .requiredOption('--starts <date>', 'first day (YYYY-MM-DD, London)')
        .option('--ends <date>', 'last day (YYYY-MM-DD, London); open-ended without')
        .option('--by <name>', 'who makes the offer (recorded)', 'cli')
        .action(
          withCtx((ctx, o: CreateOptions) => {
            const detail =
              o.detailEn !== undefined || o.detailCy !== undefined
                ? { en: o.detailEn ?? '', cy: o.detailCy ?? '' }
                : null;
            printJson(
              new OfferService(ctx.store.db).create(
                {
                  title: { en: o.titleEn, cy: o.titleCy },
                  detail,
                  segmentId: o.segment,
                  serviceId: o.service ?? null,
                  startsOn: o.starts,
                  endsOn: o.ends ?? null,
                },
                o.by,
              ),
            );
          }),
        ),
    )
    .addCommand(
      new Command('list').description('every offer with its take-up').action(
        withCtx((ctx) => {
          printJson(new OfferService(ctx.store.db).list());
        }),
      ),
    )
    .addCommand(
      new Command('retire')
        .description('retire an offer (kiosks stop showing it after their next pull)')
        .argument('<id>', 'offer id (of-…)')
        .action(
          withCtx((ctx, id: string) => {
            printJson(new OfferService(ctx.store.db).retire(id));
          }),
        ),
    );
}

/**
 * `clubcard resident-access …`: access codes for the resident API, issued at a resident's
 * request (e.g. at a staff desk). The code is printed once; only its hash is kept.
 */
export function residentAccessCommand(): Command {
  return new Command('resident-access')
    .description('resident API access codes and what residents have consented to')
    .addCommand(
      new Command('issue')
        .description('issue (or replace) a resident’s access code; printed once')
        .requiredOption('--resident <ref>')
        .option('--by <name>', 'who issues it (recorded)', 'cli')
        .action(
          withCtx(async (ctx, o: { resident: string; by: string }) => {
            const code = await new ResidentAccessService(ctx.store.db).issue(o.resident, o.by);
            printJson({ residentRef: o.resident, code });
          }),
        ),
    )
    .addCommand(
      new Command('consents')
        .description('a resident’s consents and volunteered attributes (for a data request)')
        .requiredOption('--resident <ref>')
        .action(
          withCtx((ctx, o: { resident: string }) => {
            printJson(new ConsentService(ctx.store.db).of(o.resident));
          }),
        ),
    );
}
