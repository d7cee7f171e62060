import { KioskEventSchema, MemoryEngineState, evaluate, type ServiceKind } from '@clubcard/shared';
import { ContextBuilder } from '../rewards/context.js';
import type { SqliteBackendStore } from '../store/sqlite-store.js';

export interface ReplayCheck {
  events: number;
  accounts: number;
  mismatches: { account: string; wallet: string; ledger: number; replay: number }[];
}

/**
 * Re-derives every balance from the raw event log (accepted events, in the order they
 * were ingested) with the rules engine, and compares with the ledger. Any difference
 * means the ledger no longer follows from the events.
 */
export function replayCheck(store: SqliteBackendStore): ReplayCheck {
  const db = store.db;
  const kinds = new Map(store.listServices().map((s) => [s.id as string, s.kind as ServiceKind]));
  const schemes = store.listSchemes();
  const replay = new Map<string, number>();
  const add = (account: string, wallet: string, amount: number): void => {
    const k = `${account}\u0000${wallet}`;
    replay.set(k, (replay.get(k) ?? 0) + amount);
  };
  let events = 0;
  // The same engine, from an empty state, over the accepted events in arrival order.
  const state = new MemoryEngineState();
  const contexts = new ContextBuilder(store);
  for (const row of db
    // Consent and the enrolment desk's events are not the engine's: they move no balance.
    .prepare(
      `SELECT payload FROM events WHERE status = 'accepted'
         AND type NOT IN ('consent', 'enrolment', 'card-replacement') ORDER BY rowid`,
    )
    .iterate() as Iterable<{ payload: string }>) {
    const e = KioskEventSchema.parse(JSON.parse(row.payload));
    events++;
    const kind = kinds.get(e.serviceId);
    if (!kind) continue;
    const r = evaluate(state, e, contexts.for(e, kind), schemes);
    state.apply(r.stateDelta);
    for (const l of r.lines) {
      add(l.to, l.wallet, l.amount);
      add(l.from, l.wallet, -l.amount);
    }
  }
  const ledger = new Map<string, number>();
  for (const r of db
    .prepare(
      `SELECT account, wallet, SUM(amount) AS amount FROM (
         SELECT to_account AS account, wallet, amount FROM ledger_lines
         UNION ALL SELECT from_account, wallet, -amount FROM ledger_lines
       ) GROUP BY account, wallet`,
    )
    .all() as { account: string; wallet: string; amount: number }[]) {
    ledger.set(`${r.account}\u0000${r.wallet}`, r.amount);
  }
  const mismatches: ReplayCheck['mismatches'] = [];
  for (const k of new Set([...ledger.keys(), ...replay.keys()])) {
    const a = ledger.get(k) ?? 0;
    const b = replay.get(k) ?? 0;
    if (a !== b) {
      const [account = '', wallet = ''] = k.split('\u0000');
      mismatches.push({ account, wallet, ledger: a, replay: b });
    }
  }
  return { events, accounts: ledger.size, mismatches };
}
