import { z } from 'zod';
import { SchemeIdSchema } from '../ids.js';
import { WalletIdSchema } from '../protocol/ledger.js';

/** Kinds of service the council runs; rules trigger on kinds or on named services. */
export const ServiceKindSchema = z.enum([
  'leisure',
  'library',
  'gp-drop-in',
  'learning',
  'community',
  'transport',
]);
export type ServiceKind = z.infer<typeof ServiceKindSchema>;

export const EarningRuleSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,60}$/),
  /** Which events trigger the rule. */
  trigger: z.object({
    eventType: z.literal('visit'),
    serviceKinds: z.array(ServiceKindSchema).min(1).optional(),
  }),
  /** Fixed amount credited in the scheme's wallet unit. */
  amount: z.number().int().positive().max(1_000_000),
});
export type EarningRule = z.infer<typeof EarningRuleSchema>;

/**
 * A scheme is versioned data: an event is evaluated under the version in force when it
 * happened (validFrom ≤ occurredAt), whenever it arrives.
 */
export const SchemeDefinitionSchema = z.object({
  id: SchemeIdSchema,
  version: z.number().int().min(1),
  name: z.string().min(1).max(120),
  wallet: WalletIdSchema,
  validFrom: z.iso.datetime({ offset: true }),
  /** Evaluated in this order; the order is part of the definition. */
  earning: z.array(EarningRuleSchema).max(100),
});
export type SchemeDefinition = z.infer<typeof SchemeDefinitionSchema>;
