import { PerformanceObserver } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdleCollector, exposeGc, type GcFunction } from './idle-gc.js';

afterEach(() => {
  vi.useRealTimers();
});

function recording(): { gc: GcFunction; calls: string[] } {
  const calls: string[] = [];
  return { gc: (o) => calls.push(o?.type ?? 'major'), calls };
}

describe('IdleCollector', () => {
  it('collects once, after the delay, however many taps came in between', () => {
    vi.useFakeTimers();
    const { gc, calls } = recording();
    const idle = new IdleCollector({ gc, delayMs: 50, heapUsed: () => 0 });
    idle.afterTap();
    idle.afterTap();
    vi.advanceTimersByTime(49);
    expect(calls).toEqual([]);
    idle.afterTap();
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['minor']);
    idle.afterTap();
    vi.advanceTimersByTime(50);
    expect(calls).toEqual(['minor', 'minor']);
  });

  it('makes the idle collection a full one once the heap has grown enough', () => {
    let used = 10_000_000;
    const calls: string[] = [];
    // A full collection frees 6 MB of the heap.
    const gc: GcFunction = (o) => {
      calls.push(o?.type ?? 'major');
      if (o?.type === 'major') used -= 6_000_000;
    };
    const idle = new IdleCollector({ gc, majorAfterBytes: 4_000_000, heapUsed: () => used });
    expect(idle.collect()).toBe('minor');
    used += 3_999_999;
    expect(idle.collect()).toBe('minor');
    used += 1; // 14 MB
    expect(idle.collect()).toBe('major'); // down to 8 MB: growth counts from there
    used += 3_999_999;
    expect(idle.collect()).toBe('minor');
    used += 1;
    expect(idle.collect()).toBe('major');
    expect(calls).toEqual(['minor', 'minor', 'major', 'minor', 'major']);
  });

  it('does nothing without a collector, and stop() cancels a pending collection', () => {
    vi.useFakeTimers();
    const off = new IdleCollector({ gc: null });
    expect(off.enabled).toBe(false);
    off.afterTap();
    expect(off.collect()).toBeNull();
    expect(vi.getTimerCount()).toBe(0);

    const { gc, calls } = recording();
    const idle = new IdleCollector({ gc, heapUsed: () => 0 });
    idle.afterTap();
    idle.stop();
    vi.advanceTimersByTime(1000);
    expect(calls).toEqual([]);
  });

  it('reaches V8: a collection really runs, without --expose-gc on the command line', async () => {
    const gc = exposeGc();
    expect(gc).toBeTypeOf('function');
    const kinds: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
    });
    obs.observe({ entryTypes: ['gc'] });
    try {
      const idle = new IdleCollector({ gc, majorAfterBytes: Number.MAX_SAFE_INTEGER });
      expect(idle.collect()).toBe('minor');
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      obs.disconnect();
    }
    // NODE_PERFORMANCE_GC_MINOR
    expect(kinds).toContain(1);
  });
});
