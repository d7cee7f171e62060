import { Router, type Request, type Response } from 'express';
import { VolunteeredAttributeSchema } from '@clubcard/shared';
import { requireRole } from '../auth/middleware.js';
import type { OperatorService } from '../auth/operators.js';
import type { BackendStore } from '../store/repository.js';
import type { Analytics } from './analytics.js';
import { CouncilQueries } from './council-queries.js';
import {
  heatmapTable,
  kiosksTable,
  neighbourhoodsTable,
  schemesTable,
  segmentProfilesTable,
  segmentSizesTable,
  takeUpTable,
  trendTable,
  wardTargetsTable,
} from './dashboard-tables.js';
import { parseFilters, type FilterKey, type KnownValues } from './filters.js';
import { AGE_BANDS } from './model.js';
import type { AnalyticsFilters } from './queries.js';
import { tableToCsv, type Table } from './table.js';

export interface AnalyticsRouteDeps {
  store: BackendStore;
  operators: OperatorService;
  analytics: Analytics;
  now: () => number;
}

/** The usage filters; the volunteered-attribute filter applies to take-up and segment sizes. */
const ALL: readonly FilterKey[] = ['from', 'to', 'venue', 'service', 'ageBand', 'ward'];

/**
 * The analytics API for analysts (and admins): one endpoint per dashboard table. Every
 * answer is aggregate and k-anonymised (see privacy.ts); `?format=csv` or the `.csv`
 * sibling route gives the same table as an RFC 4180 CSV download.
 */
export function analyticsRouter(deps: AnalyticsRouteDeps): Router {
  const r = Router();
  const analyst = requireRole(deps.operators, 'admin', 'analyst');
  const q = deps.analytics.queries;
  const council = new CouncilQueries(deps.analytics.adb.db, q);
  const known = (): KnownValues & { wards: string[] } => {
    const venues = deps.store.listVenues();
    const services = new Set(deps.store.listServices().map((s) => s.id as string));
    const wards = council.wards(venues);
    return {
      venue: (id) => venues.some((v) => v.id === id),
      service: (id) => services.has(id),
      ward: (id) => wards.includes(id),
      wards,
    };
  };

  r.use('/api/v1/analytics', analyst, (_req, res, next) => {
    // Aggregates only, but still not for shared caches.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  r.get('/api/v1/analytics/options', (_req, res) => {
    const k = known();
    res.json({
      venues: deps.store
        .listVenues()
        .map((v) => ({ id: v.id, name: v.name, ward: v.ward, services: v.services })),
      services: deps.store.listServices().map((s) => ({ id: s.id, name: s.name, kind: s.kind })),
      wards: k.wards,
      ageBands: AGE_BANDS,
      attributes: VolunteeredAttributeSchema.options,
    });
  });

  const table = <A extends object>(
    name: string,
    title: string,
    allowed: readonly FilterKey[],
    answer: (f: AnalyticsFilters, wards: string[]) => A,
    toTable: (a: A) => Table,
  ): void => {
    const handle = (csv: boolean) => (req: Request, res: Response) => {
      const k = known();
      const { filters, format } = parseFilters(req.query, allowed, k, title);
      const a = answer(filters, k.wards);
      const t = toTable(a);
      if (csv || format === 'csv') {
        const day = new Date(deps.now()).toISOString().slice(0, 10);
        res.setHeader('Content-Type', 'text/csv; charset=utf-8; header=present');
        res.setHeader('Content-Disposition', `attachment; filename="clubcard-${name}-${day}.csv"`);
        res.send(tableToCsv(t));
        return;
      }
      res.json({ ...a, filters, table: t });
    };
    r.get(`/api/v1/analytics/${name}.csv`, handle(true));
    r.get(`/api/v1/analytics/${name}`, handle(false));
  };

  table('heatmap', 'the usage heatmap', ALL, (f) => q.usageHeatmap(f), heatmapTable);
  table('trend', 'weekly trends', ALL, (f) => q.weeklyTrend(f), trendTable);
  table('take-up', 'take-up', [...ALL, 'attribute'], (f) => q.takeUp(f), takeUpTable);
  table(
    'segments',
    'segment sizes',
    ['ageBand', 'ward', 'attribute'],
    (f) => q.segmentSizes(f),
    segmentSizesTable,
  );
  table(
    'segment-profiles',
    'segment profiles',
    ['ward'],
    (f) => q.segmentProfiles(f),
    segmentProfilesTable,
  );
  table(
    'neighbourhoods',
    'neighbourhoods',
    ALL,
    (f, wards) => ({ rows: council.neighbourhoods(f, wards) }),
    (a) => neighbourhoodsTable(a.rows),
  );
  table(
    'ward-targets',
    'ward targets',
    [],
    () => ({ rows: council.wardTargets(deps.store.listSchemes()) }),
    (a) => wardTargetsTable(a.rows),
  );
  table(
    'schemes',
    'scheme costs',
    ['from', 'to'],
    (f) => ({ rows: council.schemeCosts(f) }),
    (a) => schemesTable(a.rows),
  );
  table(
    'kiosks',
    'kiosk sync health',
    [],
    () => ({ rows: council.kioskHealth(deps.store.listKiosks(), deps.now()) }),
    (a) => kiosksTable(a.rows),
  );
  return r;
}
