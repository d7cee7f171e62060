import { join } from 'node:path';
import { backendServices, openBackend } from '@clubcard/backend/app';
import type { RunningKiosk } from '@clubcard/terminal/main';
import type { TestSystem } from './system.js';

/** The events of one type in a kiosk's outbox, oldest first, with their sync status. */
export function kioskOutbox(k: RunningKiosk, type: string): { payload: unknown; status: string }[] {
  return (
    k.store.db
      .prepare('SELECT payload, status FROM outbox WHERE type = ? ORDER BY seq')
      .all(type) as { payload: string; status: string }[]
  ).map((r) => ({ payload: JSON.parse(r.payload) as unknown, status: r.status }));
}

/**
 * Runs setup on the test system's backend database with every backend service (staff
 * included, which the admin service alone does not cover); returns what it returns and
 * the council's card-hash key.
 */
export function withBackendServices<T>(
  sys: TestSystem,
  fn: (services: ReturnType<typeof backendServices>) => T,
): { result: T; cardKey: string } {
  const { store, secrets } = openBackend(sys.backendConfig, join(sys.dir, 'backend.sqlite'));
  try {
    return { result: fn(backendServices(store, secrets)), cardKey: secrets.cardHashKey };
  } finally {
    store.close();
  }
}
