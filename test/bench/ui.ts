/**
 * bench:ui — from the kiosk core's tap event to the resident's screen showing the
 * result, in headless Chromium: simulated reader → kiosk core (authenticate, resolve,
 * rules, ONE SQLite transaction, synchronous=FULL) → screen services (language, spend
 * options) → server-sent event → zod check → render → the next animation frame (the
 * frame that shows it). Clocks: the page's and Node's epoch milliseconds, with their
 * offset measured by round trips before the run. Last line: one JSON object.
 */
import { performance } from 'node:perf_hooks';
import { launchChromium } from '../support/browser.js';
import { createTestSystem } from '../support/system.js';
import { openScreen, startScreenKiosk } from '../browser/screen-harness.js';

const TAPS = Number(process.env.BENCH_TAPS ?? 200);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return +(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN).toFixed(2);
}

const epoch = (): number => performance.timeOrigin + performance.now();

const sys = await createTestSystem();
const browser = await launchChromium();
try {
  await sys.startBackend();
  const k = await startScreenKiosk(sys, 0);
  await k.kiosk.sync.syncOnce();
  const { page } = await openScreen(browser, k.url, { speech: false });

  // Page clock minus Node clock, from the round trip with the smallest delay.
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 30; i++) {
    const before = epoch();
    const inPage = await page.evaluate(() => performance.timeOrigin + performance.now());
    const after = epoch();
    if (after - before < best.rtt)
      best = { rtt: after - before, offset: inPage - (before + after) / 2 };
  }

  let tapAt = 0;
  k.kiosk.core.on('tap-timing', (tm) => {
    tapAt = performance.timeOrigin + tm.detectedAt;
  });
  const residents = sys.demo.residents;
  const shown: number[] = [];
  const rendered: number[] = [];
  for (let i = 0; i < TAPS; i++) {
    const r = residents[i % residents.length]!;
    const outcome = await k.tap(r.uid);
    if (outcome.kind !== 'recorded') throw new Error(`tap ${i} refused: ${outcome.code}`);
    const id = outcome.eventId;
    await page.waitForFunction((e) => document.body.dataset.shownEvent === e, id, {
      polling: 'raf',
    });
    const t = await page.evaluate(() => ({
      shown: Number(document.body.dataset.shownAt),
      rendered: Number(document.body.dataset.renderedAt),
    }));
    shown.push(t.shown - best.offset - tapAt);
    rendered.push(t.rendered - best.offset - tapAt);
    if ((i + 1) % 50 === 0) {
      process.stdout.write(`ui: ${i + 1}/${TAPS} taps, p95 so far ${pct(shown, 95)} ms\n`);
    }
  }
  await k.close();
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ui',
      taps: shown.length,
      p50_ms: pct(shown, 50),
      p95_ms: pct(shown, 95),
      max_ms: pct(shown, 100),
      rendered_p50_ms: pct(rendered, 50),
      rendered_p95_ms: pct(rendered, 95),
      clock_rtt_ms: +best.rtt.toFixed(2),
      goal_p95_ms: 100,
    })}\n`,
  );
} finally {
  await browser.close();
  await sys.cleanup();
}
