import { VisitEventSchema, type ServiceKind } from '@clubcard/shared';
import { DAY_MS } from '@clubcard/shared/rules/london-time';
import type { Db } from '../db/open.js';
import type { AcceptedVisit } from '../sync/ingest.js';
import { uuidFloor } from './listener.js';

/**
 * One more day of visits for the segmentation benchmark and the incremental-day tests:
 * the visits of a day a week earlier, again a week later. Not used by the backend.
 */

/** Visit payloads of the UTC day `day` (day number since the epoch), by id range, in id order. */
export function visitPayloadsOfDay(db: Db, day: number): Record<string, unknown>[] {
  const rows = db
    .prepare("SELECT payload FROM events WHERE id >= ? AND id < ? AND type = 'visit' ORDER BY id")
    .pluck()
    .all(uuidFloor(day * DAY_MS), uuidFloor((day + 1) * DAY_MS)) as string[];
  return rows.map((p) => JSON.parse(p) as Record<string, unknown>);
}

/**
 * Inserts visit payloads a week later (the same id suffix after the new time, so ids stay
 * unique if the payloads' are, and the next sequence number of each kiosk) as accepted
 * events, as ingestion inserts them; returns them as the ingestion listener gets them.
 */
export function insertWeekLater(
  db: Db,
  payloads: readonly Record<string, unknown>[],
): AcceptedVisit[] {
  const kinds = new Map(
    (db.prepare('SELECT id, kind FROM services').all() as { id: string; kind: ServiceKind }[]).map(
      (s) => [s.id, s.kind],
    ),
  );
  const seqs = new Map(
    (
      db.prepare('SELECT kiosk_id AS k, MAX(seq) AS s FROM events GROUP BY kiosk_id').all() as {
        k: string;
        s: number;
      }[]
    ).map((r) => [r.k, r.s]),
  );
  const out: AcceptedVisit[] = [];
  const ins = db.prepare(
    `INSERT INTO events (id, kiosk_id, seq, type, occurred_at, received_at, resident_ref, venue_id, service_id,
       status, reject_code, payload) VALUES (?, ?, ?, 'visit', ?, ?, ?, ?, ?, 'accepted', NULL, ?)`,
  );
  db.transaction(() => {
    for (const p of payloads) {
      const e = { ...p };
      const at = Date.parse(String(e.occurredAt)) + 7 * DAY_MS;
      const t = at.toString(16).padStart(12, '0');
      const old = String(e.id);
      e.id = `${t.slice(0, 8)}-${t.slice(8)}-${old.slice(14)}`;
      const seq = (seqs.get(String(e.kioskId)) ?? 0) + 1;
      seqs.set(String(e.kioskId), seq);
      e.seq = seq;
      e.occurredAt = new Date(at).toISOString();
      const event = VisitEventSchema.parse(e);
      ins.run(
        event.id,
        event.kioskId,
        event.seq,
        event.occurredAt,
        at + 60_000,
        event.residentRef,
        event.venueId,
        event.serviceId,
        JSON.stringify(e),
      );
      out.push({ event, serviceKind: kinds.get(event.serviceId) ?? 'library' });
    }
  })();
  return out;
}
