import { walletUnit, type SchemeDefinition } from '@clubcard/shared';
import type { Db } from '../db/open.js';
import type { KioskRow, VenueRow } from '../store/repository.js';
import { DEFAULT_K, checkK, isSmall, lineComplement } from './privacy.js';
import type { AnalyticsFilters, AnalyticsQueries } from './queries.js';

/**
 * The dashboard's council-side figures: neighbourhoods (visits and ward budgets by
 * ward), ward targets, scheme costs and redemptions by month, and kiosk sync health.
 * Figures about residents pass the same k-anonymity rules as the usage queries
 * (privacy.ts); ward budgets, targets and kiosks are council figures, not residents'.
 *
 * Months are calendar months (UTC) of when the events happened.
 */

export interface NeighbourhoodRow {
  ward: string;
  wallet: string;
  /** Visits in the range, under the filters (k-anonymised like the usage queries). */
  visits: number | null;
  /** Ward targets met in the range (awards paid into the ward's account). */
  targetsMet: number;
  /** Paid into the ward's account in the range. */
  earned: number;
  /** Spent from the ward's account in the range. */
  spent: number;
  /** The ward account's balance now (all time). */
  balance: number;
}

export interface WardTargetRow {
  schemeId: string;
  schemeName: string;
  targetId: string;
  description: string;
  counts: string;
  wardBasis: string;
  period: string;
  target: number;
  reward: number;
  wallet: string;
}

export interface SchemeMonthRow {
  schemeId: string;
  wallet: string;
  unit: string;
  month: string;
  /** Residents credited in the month. */
  residents: number | null;
  granted: number | null;
  redeemed: number | null;
  expired: number | null;
  /** Held by residents at the end of the month (granted − redeemed − expired, all time). */
  outstanding: number | null;
}

export interface KioskHealthRow {
  kioskId: string;
  venueId: string;
  serviceId: string;
  status: string;
  /** Last push or pull the backend answered (epoch ms). */
  lastSuccessAt: number | null;
  silentForMs: number | null;
  ackSeq: number;
  /** Highest event sequence the backend has received from the kiosk. */
  highestSeq: number;
  /** Sequence numbers past the acknowledged one: received out of order or still missing. */
  backlog: number;
  /** When the earliest received-but-unsettled event happened (ISO), if any. */
  oldestUnsettledAt: string | null;
  /** How long the kiosk's latest received event took to arrive. */
  lastEventDelayMs: number | null;
  /** Kiosk clock minus backend clock at its last push. */
  clockSkewMs: number | null;
}

const RESIDENT = 'resident:';

function monthOf(isoDate: string): string {
  return isoDate.slice(0, 7);
}

export class CouncilQueries {
  constructor(
    private readonly db: Db,
    private readonly usage: AnalyticsQueries,
  ) {}

  /** Every ward the council knows: where residents live (analytics codes) or venues stand. */
  wards(venues: readonly VenueRow[]): string[] {
    const s = new Set<string>(
      (
        this.db.prepare("SELECT key FROM analytics_codes WHERE kind = 'ward'").all() as {
          key: string;
        }[]
      ).map((r) => r.key),
    );
    for (const v of venues) s.add(v.ward);
    return [...s].sort();
  }

  /**
   * Per ward: visits (each ward's total as the trend filtered to that ward would give
   * it, so every number passes the cube's rules, including the family rule across
   * wards; all wards in one scan) and the ward's neighbourhood budget from its ledger
   * account.
   */
  neighbourhoods(
    f: AnalyticsFilters,
    wards: readonly string[],
    o: { k?: number } = {},
  ): NeighbourhoodRow[] {
    const k = checkK(o.k ?? DEFAULT_K);
    const from = f.from ?? '0000-01-01';
    const to = f.to ?? '9999-12-31';
    const flows = this.db
      .prepare(
        `SELECT CASE WHEN l.to_account LIKE 'ward:%' THEN l.to_account ELSE l.from_account END AS account,
           l.wallet, l.to_account LIKE 'ward:%' AS incoming,
           SUM(CASE WHEN substr(COALESCE(e.occurred_at, ''), 1, 10) BETWEEN ? AND ? THEN l.amount ELSE 0 END) AS inRange,
           SUM(CASE WHEN substr(COALESCE(e.occurred_at, ''), 1, 10) BETWEEN ? AND ? THEN 1 ELSE 0 END) AS linesInRange,
           SUM(l.amount) AS allTime
         FROM ledger_lines l LEFT JOIN events e ON e.id = l.event_id
         WHERE (l.to_account LIKE 'ward:%') <> (l.from_account LIKE 'ward:%')
         GROUP BY 1, 2, 3`,
      )
      .all(from, to, from, to) as {
      account: string;
      wallet: string;
      incoming: number;
      inRange: number;
      linesInRange: number;
      allTime: number;
    }[];
    const budgets = new Map<string, Map<string, Omit<NeighbourhoodRow, 'ward' | 'visits'>>>();
    for (const r of flows) {
      const ward = r.account.slice('ward:'.length);
      const byWallet = budgets.get(ward) ?? new Map();
      budgets.set(ward, byWallet);
      const b = byWallet.get(r.wallet) ?? {
        wallet: r.wallet,
        targetsMet: 0,
        earned: 0,
        spent: 0,
        balance: 0,
      };
      byWallet.set(r.wallet, b);
      if (r.incoming) {
        b.earned += r.inRange;
        b.targetsMet += r.linesInRange;
        b.balance += r.allTime;
      } else {
        b.spent += r.inRange;
        b.balance -= r.allTime;
      }
    }
    const rows: NeighbourhoodRow[] = [];
    const totals = this.usage.wardVisitTotals(f, { k });
    for (const ward of wards) {
      if (f.ward !== undefined && f.ward !== ward) continue;
      const visits = totals.get(ward) ?? 0;
      const byWallet = budgets.get(ward);
      const list = byWallet
        ? [...byWallet.values()].sort((a, b) => a.wallet.localeCompare(b.wallet))
        : [{ wallet: 'neighbourhood-budget', targetsMet: 0, earned: 0, spent: 0, balance: 0 }];
      for (const b of list) rows.push({ ward, visits, ...b });
    }
    return rows;
  }

  /** The ward targets of the latest version of each published scheme. */
  wardTargets(schemes: readonly SchemeDefinition[]): WardTargetRow[] {
    const latest = new Map<string, SchemeDefinition>();
    for (const s of schemes) {
      const cur = latest.get(s.id);
      if (!cur || cur.version < s.version) latest.set(s.id, s);
    }
    const rows: WardTargetRow[] = [];
    for (const s of [...latest.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      for (const t of s.wardTargets) {
        rows.push({
          schemeId: s.id,
          schemeName: s.name,
          targetId: t.id,
          description: t.description ?? '',
          counts:
            t.trigger.eventType === 'ward-contribution'
              ? `contributions: ${t.trigger.measures.join(', ')}`
              : `${t.trigger.eventType} events`,
          wardBasis: t.ward,
          period: t.period,
          target: t.target,
          reward: t.reward,
          wallet: s.wallet,
        });
      }
    }
    return rows;
  }

  /**
   * Per scheme and wallet, by month: credits granted to residents, redeemed by them
   * (paid to outlets, venues or time banks), expired, and what residents hold at the
   * month's end. Each monthly amount is withheld when fewer than k residents are behind
   * it, and along each measure's months more are withheld until the withheld months
   * together cover at least k residents (rule 2: the scheme's all-time total, which
   * the outstanding figure reveals, minus the visible months). An outstanding figure is
   * shown only while no month up to it is withheld, so that two of them never
   * difference out a withheld month.
   */
  schemeCosts(f: Pick<AnalyticsFilters, 'from' | 'to'>, o: { k?: number } = {}): SchemeMonthRow[] {
    const k = checkK(o.k ?? DEFAULT_K);
    type Measure = 'granted' | 'redeemed' | 'expired';
    const MEASURES: readonly Measure[] = ['granted', 'redeemed', 'expired'];
    interface Month {
      amount: Record<Measure, number>;
      who: Record<Measure, Set<string>>;
    }
    const lines = new Map<string, Map<string, Month>>();
    const rows = this.db
      .prepare(
        `SELECT l.scheme_id AS scheme, l.wallet,
           COALESCE(substr(e.occurred_at, 1, 7), strftime('%Y-%m', l.created_at / 1000, 'unixepoch')) AS month,
           CASE WHEN l.rule_id = 'expiry' THEN 'expired'
                WHEN l.to_account LIKE 'resident:%' THEN 'granted' ELSE 'redeemed' END AS measure,
           CASE WHEN l.to_account LIKE 'resident:%' THEN l.to_account ELSE l.from_account END AS who,
           SUM(l.amount) AS amount
         FROM ledger_lines l LEFT JOIN events e ON e.id = l.event_id
         WHERE (l.to_account LIKE 'resident:%') <> (l.from_account LIKE 'resident:%')
         GROUP BY 1, 2, 3, 4, 5`,
      )
      .iterate() as Iterable<{
      scheme: string;
      wallet: string;
      month: string;
      measure: Measure;
      who: string;
      amount: number;
    }>;
    for (const r of rows) {
      if (!r.who.startsWith(RESIDENT)) continue;
      const key = `${r.scheme}\u0000${r.wallet}`;
      const months = lines.get(key) ?? new Map<string, Month>();
      lines.set(key, months);
      let m = months.get(r.month);
      if (!m) {
        m = {
          amount: { granted: 0, redeemed: 0, expired: 0 },
          who: { granted: new Set(), redeemed: new Set(), expired: new Set() },
        };
        months.set(r.month, m);
      }
      m.amount[r.measure] += r.amount;
      m.who[r.measure].add(r.who);
    }
    const fromMonth = f.from === undefined ? '0000-00' : monthOf(f.from);
    const toMonth = f.to === undefined ? '9999-99' : monthOf(f.to);
    const out: SchemeMonthRow[] = [];
    for (const key of [...lines.keys()].sort()) {
      const [schemeId = '', wallet = ''] = key.split('\u0000');
      const months = lines.get(key) ?? new Map<string, Month>();
      const order = [...months.keys()].sort();
      const monthAt = (i: number): Month => months.get(order[i] ?? '') as Month;
      const hidden: Record<Measure, Set<number>> = {
        granted: new Set(),
        redeemed: new Set(),
        expired: new Set(),
      };
      for (const measure of MEASURES) {
        const size = (i: number): number => monthAt(i).who[measure].size;
        const primary = (i: number): boolean => isSmall(size(i), k);
        const union = (is: readonly number[]): number => {
          const s = new Set<string>();
          for (const i of is) for (const w of monthAt(i).who[measure]) s.add(w);
          return s.size;
        };
        const line = order.map((_, i) => i);
        for (const i of line) if (primary(i)) hidden[measure].add(i);
        for (const i of lineComplement(line, primary, size, union, k)) hidden[measure].add(i);
      }
      let outstanding = 0;
      let clean = true;
      order.forEach((month, i) => {
        const m = monthAt(i);
        outstanding += m.amount.granted - m.amount.redeemed - m.amount.expired;
        if (MEASURES.some((x) => hidden[x].has(i))) clean = false;
        if (month < fromMonth || month > toMonth) return;
        const show = (x: Measure): number | null => (hidden[x].has(i) ? null : m.amount[x]);
        out.push({
          schemeId,
          wallet,
          unit: walletUnit(wallet),
          month,
          residents: hidden.granted.has(i) ? null : m.who.granted.size,
          granted: show('granted'),
          redeemed: show('redeemed'),
          expired: show('expired'),
          outstanding: clean ? outstanding : null,
        });
      });
    }
    return out;
  }

  /**
   * What the backend knows of each kiosk's sync: when it last answered the kiosk, how
   * far the acknowledged sequence trails what has arrived, the oldest event still
   * unsettled, how late the newest event arrived, and the kiosk's clock offset.
   */
  kioskHealth(kiosks: readonly KioskRow[], now: number): KioskHealthRow[] {
    const highest = this.db.prepare('SELECT MAX(seq) AS seq FROM events WHERE kiosk_id = ?');
    const unsettled = this.db.prepare(
      'SELECT MIN(occurred_at) AS at FROM events WHERE kiosk_id = ? AND seq > ?',
    );
    const newest = this.db.prepare(
      'SELECT occurred_at AS at, received_at AS rx FROM events WHERE kiosk_id = ? ORDER BY seq DESC LIMIT 1',
    );
    return kiosks.map((k) => {
      const hi = (highest.get(k.id) as { seq: number | null }).seq ?? 0;
      const oldest = (unsettled.get(k.id, k.ackSeq) as { at: string | null }).at;
      const last = newest.get(k.id) as { at: string; rx: number } | undefined;
      const lastAt = last ? Date.parse(last.at) : NaN;
      const success =
        k.lastPushAt === null && k.lastPullAt === null
          ? null
          : Math.max(k.lastPushAt ?? 0, k.lastPullAt ?? 0);
      return {
        kioskId: k.id,
        venueId: k.venueId,
        serviceId: k.serviceId,
        status: k.status,
        lastSuccessAt: success,
        silentForMs: success === null ? null : Math.max(0, now - success),
        ackSeq: k.ackSeq,
        highestSeq: hi,
        backlog: Math.max(0, hi - k.ackSeq),
        oldestUnsettledAt: oldest,
        lastEventDelayMs: last && !Number.isNaN(lastAt) ? Math.max(0, last.rx - lastAt) : null,
        clockSkewMs: k.clockOffsetMs,
      };
    });
  }
}
