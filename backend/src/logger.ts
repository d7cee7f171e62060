import { pino, type Logger } from 'pino';

/** Structured logs to stderr. Never log names, card identifiers or resident refs. */
export function createLogger(level: string, name = 'backend'): Logger {
  return pino({ name, level }, pino.destination(2));
}
export type { Logger };
