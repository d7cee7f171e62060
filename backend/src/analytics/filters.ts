import { z } from 'zod';
import { AppError, AgeBandSchema, VolunteeredAttributeSchema } from '@clubcard/shared';
import type { AnalyticsFilters } from './queries.js';

/** The dashboard's filters, as query parameters. */
export const FILTER_KEYS = [
  'from',
  'to',
  'venue',
  'service',
  'ageBand',
  'ward',
  'attribute',
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'not a calendar date');

const Code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/, 'not a valid id');

/** One schema for every analytics query string; unknown parameters are refused. */
export const AnalyticsQuerySchema = z
  .object({
    from: IsoDate.optional(),
    to: IsoDate.optional(),
    venue: Code.optional(),
    service: Code.optional(),
    ageBand: AgeBandSchema.optional(),
    ward: Code.optional(),
    /** A volunteered attribute (counted only for residents who consent to analytics). */
    attribute: VolunteeredAttributeSchema.optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });
export type AnalyticsQuery = z.infer<typeof AnalyticsQuerySchema>;

/** What a filter value is checked against: the council's venues, services and wards. */
export interface KnownValues {
  venue(id: string): boolean;
  service(id: string): boolean;
  ward(id: string): boolean;
}

const NAMES: Record<FilterKey, string> = {
  from: 'from',
  to: 'to',
  venue: 'venue',
  service: 'service',
  ageBand: 'age band',
  ward: 'ward',
  attribute: 'volunteered attribute',
};

/**
 * Validates a query string for one table: the schema, then that each filter applies to
 * the table and names something that exists. Any failure is a 400 with a message that
 * says which filter and why; nothing is queried.
 */
export function parseFilters(
  raw: unknown,
  allowed: readonly FilterKey[],
  known: KnownValues,
  table: string,
): { filters: AnalyticsFilters; format: 'json' | 'csv' } {
  const r = AnalyticsQuerySchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    const where = i?.path.join('.') || 'query';
    const msg =
      i?.code === 'unrecognized_keys'
        ? `unknown parameter ${i.keys.join(', ')}`
        : `${where}: ${i?.message ?? 'invalid'}`;
    throw new AppError('validation-failed', msg, {
      details: {
        issues: r.error.issues
          .slice(0, 10)
          .map((x) => ({ path: x.path.join('.'), message: x.message })),
      },
    });
  }
  const q = r.data;
  for (const key of FILTER_KEYS) {
    if (q[key] !== undefined && !allowed.includes(key)) {
      throw new AppError(
        'validation-failed',
        `the ${NAMES[key]} filter does not apply to ${table}`,
      );
    }
  }
  const check = (kind: 'venue' | 'service' | 'ward', v: string | undefined): void => {
    if (v !== undefined && !known[kind](v)) {
      throw new AppError('validation-failed', `unknown ${kind} "${v}"`);
    }
  };
  check('venue', q.venue);
  check('service', q.service);
  check('ward', q.ward);
  const filters: AnalyticsFilters = {};
  if (q.from !== undefined) filters.from = q.from;
  if (q.to !== undefined) filters.to = q.to;
  if (q.venue !== undefined) filters.venueId = q.venue;
  if (q.service !== undefined) filters.serviceId = q.service;
  if (q.ageBand !== undefined) filters.ageBand = q.ageBand;
  if (q.ward !== undefined) filters.ward = q.ward;
  if (q.attribute !== undefined) filters.attribute = q.attribute;
  return { filters, format: q.format };
}
