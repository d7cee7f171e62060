import { describe, expect, it } from 'vitest';
import { openBackendDb } from '../db/open.js';
import { SqliteBackendStore } from './sqlite-store.js';

describe('the pull change feed', () => {
  it('keeps only the latest change per key, at a cursor past every kiosk that saw an older one', () => {
    const store = new SqliteBackendStore(openBackendDb(':memory:'));
    const start = store.latestCursor();
    for (let i = 0; i < 50; i++) {
      store.addChange('balance', 'r-a', i);
      store.addChange('balance', 'r-b', i);
    }
    store.addChange('card', 'r-a', 99); // another kind with the same key is its own entry
    const feed = store.changesSince(start, 1000);
    expect(feed.map((c) => `${c.kind}:${c.key}`)).toEqual([
      'balance:r-a',
      'balance:r-b',
      'card:r-a',
    ]);
    // A kiosk that had pulled up to an earlier change of r-a still gets r-a again.
    const midway = feed[0]!.cursor - 1;
    store.addChange('balance', 'r-a', 100);
    const later = store.changesSince(midway, 1000).map((c) => `${c.kind}:${c.key}`);
    expect(later).toEqual(['balance:r-b', 'card:r-a', 'balance:r-a']);
    expect(store.latestCursor()).toBeGreaterThan(feed[2]!.cursor);
  });
});
