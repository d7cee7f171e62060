export * from './ids.js';
export * from './errors.js';
export * from './protocol/events.js';
export * from './protocol/ledger.js';
export * from './protocol/sync.js';
export * from './rules/scheme.js';
export * from './rules/engine.js';
export * from './signing.js';
