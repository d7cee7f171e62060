import express, { type Express } from 'express';
import { PROTOCOL_VERSION } from '@clubcard/shared';
import type { BackendConfig } from './config.js';
import { openBackendDb } from './db/open.js';
import { errorHandler } from './http/errors.js';
import { ensureBackendSecrets, type BackendSecrets } from './keys.js';
import { kioskRouter } from './kiosks/routes.js';
import type { Logger } from './logger.js';
import type { BackendStore } from './store/repository.js';
import { SqliteBackendStore } from './store/sqlite-store.js';
import { syncRouter } from './sync/routes.js';
import type { IngestionListener } from './sync/ingest.js';
import { AdminService } from './admin/admin-service.js';
import { adminRouter } from './admin/routes.js';
import { OperatorService } from './auth/operators.js';
import { authRouter } from './auth/routes.js';
import { SqliteEngineState, type EngineStateStore } from './rewards/engine-state.js';
import { rewardsRouter } from './rewards/routes.js';
import { staffRouter } from './staff/routes.js';
import { StaffService } from './staff/staff-service.js';
import { OfferService } from './offers/offer-service.js';
import { offersRouter } from './offers/routes.js';
import { ConsentService } from './consent/consent-service.js';
import { ResidentAccessService } from './consent/resident-access.js';
import { residentRouter } from './consent/routes.js';
import { Analytics } from './analytics/analytics.js';
import { analyticsRouter } from './analytics/routes.js';
import { dashboardRouter } from './dashboard/routes.js';
import { dbOf } from './rewards/attributes.js';

export interface BackendDeps {
  config: BackendConfig;
  store: BackendStore;
  secrets: BackendSecrets;
  log: Logger;
  now: () => number;
  listeners?: readonly IngestionListener[];
  operators: OperatorService;
  admin: AdminService;
  engine: EngineStateStore;
  staff: StaffService;
  /** Targeted offers (admin API, pulls); their routes are mounted when present. */
  offers?: OfferService;
  /** Residents' consents (pushed consent events, resident API). */
  consents?: ConsentService;
  /** Resident access codes and sessions (resident API). */
  residentAccess?: ResidentAccessService;
  /** Dashboard queries; built over the store's database when not given. */
  analytics?: Analytics;
}

/** The Express app: only mounts routers and the final error handler. */
export function createApp(deps: BackendDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.get('/api/v1/health', (_req, res) => {
    res.json({ status: 'ok', protocol: PROTOCOL_VERSION, time: deps.now() });
  });
  app.use(kioskRouter(deps));
  app.use(syncRouter(deps));
  app.use(authRouter(deps.operators));
  app.use(adminRouter({ ...deps, operators: deps.operators }));
  app.use(rewardsRouter(deps));
  app.use(staffRouter({ staff: deps.staff, operators: deps.operators }));
  if (deps.offers) app.use(offersRouter({ offers: deps.offers, operators: deps.operators }));
  if (deps.consents && deps.residentAccess) {
    app.use(
      residentRouter({
        consents: deps.consents,
        access: deps.residentAccess,
        operators: deps.operators,
      }),
    );
  }
  const db = dbOf(deps.store);
  const analytics = deps.analytics ?? (db ? new Analytics(db) : null);
  if (analytics) app.use(analyticsRouter({ ...deps, analytics }));
  app.use(dashboardRouter());
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not-found', message: 'no such endpoint' } });
  });
  app.use(errorHandler(deps.log));
  return app;
}

/** Opens storage and secrets for a config: the backend's composition root. */
export function openBackend(
  config: BackendConfig,
  dbFile: string,
): { store: SqliteBackendStore; secrets: BackendSecrets } {
  const store = new SqliteBackendStore(openBackendDb(dbFile));
  return { store, secrets: ensureBackendSecrets(store) };
}

/** The services every entry point builds over an open store. */
export function backendServices(
  store: SqliteBackendStore,
  secrets: BackendSecrets,
  now: () => number = Date.now,
): {
  admin: AdminService;
  operators: OperatorService;
  engine: SqliteEngineState;
  staff: StaffService;
  offers: OfferService;
  consents: ConsentService;
  residentAccess: ResidentAccessService;
} {
  return {
    admin: new AdminService(store, secrets, now),
    operators: new OperatorService(store.db, now),
    engine: new SqliteEngineState(store.db),
    staff: new StaffService(store.db, secrets.cardHashKey, now),
    offers: new OfferService(store.db, now),
    consents: new ConsentService(store.db, now),
    residentAccess: new ResidentAccessService(store.db, now),
  };
}
