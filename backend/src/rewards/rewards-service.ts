import type { z } from 'zod';
import type { Db } from '../db/open.js';
import { OutletService } from '../outlets/outlet-service.js';
import type { BackendStore } from '../store/repository.js';
import { dbOf } from './attributes.js';
import type { EngineStateStore } from './engine-state.js';
import { GrantService } from './grants.js';
import { checkSchemeInput, listPublished, publishSchemes } from './schemes.js';
import { simulateScheme, type SimulateSchema } from './simulate.js';

/** Scheme administration, grants and outlets over one backend database and engine state. */
export class RewardsService {
  readonly grants: GrantService;
  readonly outlets: OutletService;
  readonly #db: Db;

  constructor(
    private readonly store: BackendStore,
    engine: EngineStateStore,
    cardHashKey: string,
    private readonly now: () => number = Date.now,
  ) {
    const db = dbOf(store);
    if (!db) throw new Error('reward administration needs the SQLite store');
    this.#db = db;
    this.grants = new GrantService(db, store, engine, cardHashKey, now);
    this.outlets = new OutletService(db, store, engine, cardHashKey, now);
  }

  validate(input: unknown): ReturnType<typeof checkSchemeInput> {
    return checkSchemeInput(this.store, input);
  }

  publish(input: unknown): ReturnType<typeof publishSchemes> {
    return publishSchemes(this.store, input, this.now());
  }

  list(): ReturnType<typeof listPublished> {
    return listPublished(this.store);
  }

  simulate(input: z.input<typeof SimulateSchema>): ReturnType<typeof simulateScheme> {
    return simulateScheme(this.#db, this.store, input);
  }
}
