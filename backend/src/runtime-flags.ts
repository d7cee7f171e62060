/**
 * The Node.js (V8) flags the backend runs with: `npm start` passes them, and so should a
 * council's service definition (`node --max-semi-space-size=64 --import tsx
 * backend/src/main.ts`).
 *
 * A larger young generation: ingestion and replay evaluate events through the rules
 * engine at a high allocation rate (some 3 KB per event, nearly all short-lived). With
 * V8's default semi-space, the young generation fills every few thousand events, and the
 * state objects written meanwhile are copied and promoted by each scavenge; at 64 MB,
 * `bench:engine` replayed one million events 25% faster (123,226 against 97,959 events/s,
 * garbage-collection pauses 9.7% of the time against 12.6%). The cost is memory: up to
 * about 190 MB more resident set at peak, which a council's server has.
 */
export const BACKEND_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
