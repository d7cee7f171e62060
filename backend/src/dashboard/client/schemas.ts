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
  error: z.object({
    code: z.string(),
    message: z.string(),
    /** Schema refusals name each field that failed. */
    details: z
      .looseObject({
        issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      })
      .optional(),
  }),
});

/** One offer as the offers API answers it (null = withheld for privacy). */
export const OfferSchema = z.object({
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
});
export type Offer = z.infer<typeof OfferSchema>;

/** GET /api/v1/offers. */
export const OffersSchema = z.object({ offers: z.array(OfferSchema) });
export type Offers = z.infer<typeof OffersSchema>;

/** GET /api/v1/offers/segments: what an offer may target now. */
export const OfferSegmentsSchema = z.object({
  segments: z.array(
    z.object({ segmentId: z.string(), label: z.string(), targetable: z.boolean() }),
  ),
});
export type OfferSegments = z.infer<typeof OfferSegmentsSchema>;

/** GET /api/v1/analytics/segments, the parts the offer form shows (sizes k-anonymised). */
export const SegmentSizesSchema = z.looseObject({
  k: z.number().int(),
  rfm: z.array(z.object({ segment: z.string(), residents: z.number().nullable() })),
  behavioural: z.array(z.object({ segment: z.number().int(), residents: z.number().nullable() })),
});
export type SegmentSizes = z.infer<typeof SegmentSizesSchema>;
