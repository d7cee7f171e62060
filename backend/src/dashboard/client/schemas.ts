import { z } from 'zod';

/** What the dashboard reads from the APIs, checked before use (one schema per answer). */

export const TableSchema = z.object({
  columns: z.array(
    z.object({
      key: z.string(),
      label: z.string(),
      suppressible: z.boolean().optional(),
    }),
  ),
  rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))),
});

export const TableAnswerSchema = z.looseObject({
  k: z.number().int().optional(),
  weeks: z.object({ fromWeek: z.string(), toWeek: z.string() }).optional(),
  table: TableSchema,
});
export type TableAnswer = z.infer<typeof TableAnswerSchema>;

export const MeSchema = z.object({ name: z.string(), role: z.string() });

export const OptionsSchema = z.object({
  venues: z.array(z.object({ id: z.string(), name: z.string(), ward: z.string() })),
  services: z.array(z.object({ id: z.string(), name: z.string() })),
  wards: z.array(z.string()),
  ageBands: z.array(z.string()),
  attributes: z.array(z.string()),
});
export type Options = z.infer<typeof OptionsSchema>;

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

/** GET /api/v1/offers (null = withheld for privacy). */
export const OffersSchema = z.object({
  offers: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      segmentId: z.string(),
      segmentLabel: z.string(),
      service: z.string().nullable(),
      startsOn: z.string(),
      endsOn: z.string().nullable(),
      status: z.enum(['active', 'retired']),
      targeted: z.number().nullable(),
      tookUp: z.number().nullable(),
    }),
  ),
});
export type Offers = z.infer<typeof OffersSchema>;
