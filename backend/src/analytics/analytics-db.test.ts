import { describe, expect, it } from 'vitest';
import { openBackendDb } from '../db/open.js';
import { generateCounty } from '../demo/county.js';
import { AnalyticsDb } from './analytics-db.js';
import { Analytics } from './analytics.js';
import { NF } from './model.js';

/**
 * Residents' rows in memory (AnalyticsDb.warmRows) must read as SQL does, however often
 * rows are written: usage entries that outgrow their room move in the arena, and the
 * arena is compacted when half of it is left behind.
 */
describe('residents rows in memory', () => {
  it('read as SQL reads them after many writes that grow usage entries', async () => {
    const db = openBackendDb(':memory:');
    generateCounty(db, { residents: 150, seed: 5, cardHashKey: '33'.repeat(32) });
    const analytics = new Analytics(db);
    await analytics.rebuildFeatures({ workers: 0 });
    const adb = analytics.adb;
    adb.warmRows();
    expect(adb.rowsWarm).toBe(true);
    const refs = db
      .prepare('SELECT resident_ref FROM analytics_residents ORDER BY id')
      .pluck()
      .all() as string[];
    expect(refs.length).toBeGreaterThan(100);
    const fromSql = new AnalyticsDb(db);
    expect(fromSql.rowsWarm).toBe(false);
    // What the rows must hold at the end: as stored now, plus what the rounds add.
    const expectedRows = new Float64Array(refs.length * NF);
    const expected = fromSql.loadResidents(refs, expectedRows);
    const rows = new Float64Array(refs.length * NF);
    // Forty rounds, each adding one usage entry to every resident and changing a feature.
    for (let round = 0; round < 40; round++) {
      const found = adb.loadResidents(refs, rows);
      found.forEach((r, i) => {
        if (!r) throw new Error('a resident without a row');
        const entry = {
          venue: 1000 + round,
          service: round % 3,
          visits: round + i,
          lastDay: 20_000 + round,
          ringWeek: 2900 + round,
          lo: i,
          hi: round,
        };
        r.usage.push(entry);
        expected[i]?.usage.push({ ...entry });
        rows[i * NF + 4] = round * 1000 + i;
        expectedRows[i * NF + 4] = round * 1000 + i;
        adb.writeResident(r.dims.id, rows, i * NF, r.usage);
      });
    }
    for (const e of expected) e?.usage.sort((a, b) => a.venue - b.venue || a.service - b.service);
    const sqlRows = new Float64Array(refs.length * NF);
    const inSql = fromSql.loadResidents(refs, sqlRows);
    const inMemory = adb.loadResidents(refs, rows);
    expect(inSql).toEqual(expected);
    expect(inMemory).toEqual(expected);
    expect(Array.from(sqlRows)).toEqual(Array.from(expectedRows));
    expect(Array.from(rows)).toEqual(Array.from(expectedRows));
    expect(inMemory[0]?.usage.length).toBeGreaterThanOrEqual(40);
  });
});
