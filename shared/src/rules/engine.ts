import type { KioskEvent } from '../protocol/events.js';
import { residentAccount, schemeAccount, type LedgerLine } from '../protocol/ledger.js';
import type { SchemeDefinition, ServiceKind } from './scheme.js';

/** What the engine needs to know about the world around one event. Plain data only. */
export interface EvaluationContext {
  serviceKind: ServiceKind;
}

export interface ResidentMessage {
  code: string;
  /** Amount in the wallet's unit, where the message is about one. */
  amount?: number;
  wallet?: string;
}

export interface Evaluation {
  lines: LedgerLine[];
  messages: ResidentMessage[];
}

/**
 * Picks, for each scheme id, the version in force at `at`: the highest version whose
 * validFrom is not after the instant.
 */
export function versionsInForce(
  schemes: readonly SchemeDefinition[],
  at: string,
): SchemeDefinition[] {
  const t = Date.parse(at);
  const best = new Map<string, SchemeDefinition>();
  for (const s of schemes) {
    if (Date.parse(s.validFrom) > t) continue;
    const cur = best.get(s.id);
    if (!cur || s.version > cur.version) best.set(s.id, s);
  }
  return [...best.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The rules engine: a pure function from an event, its context and the scheme versions
 * to ledger lines and messages for the resident. The backend's answer is authoritative;
 * the kiosk runs the same function for an instant provisional answer.
 */
export function evaluateEvent(
  event: KioskEvent,
  ctx: EvaluationContext,
  schemes: readonly SchemeDefinition[],
): Evaluation {
  const lines: LedgerLine[] = [];
  const messages: ResidentMessage[] = [];
  for (const scheme of versionsInForce(schemes, event.occurredAt)) {
    for (const rule of scheme.earning) {
      if (rule.trigger.eventType !== event.type) continue;
      if (rule.trigger.serviceKinds && !rule.trigger.serviceKinds.includes(ctx.serviceKind)) {
        continue;
      }
      lines.push({
        eventId: event.id,
        index: lines.length,
        schemeId: scheme.id,
        schemeVersion: scheme.version,
        ruleId: rule.id,
        wallet: scheme.wallet,
        from: schemeAccount(scheme.id),
        to: residentAccount(event.residentRef),
        amount: rule.amount,
      });
      messages.push({ code: 'earned', amount: rule.amount, wallet: scheme.wallet });
    }
  }
  return { lines, messages };
}
