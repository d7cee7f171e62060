import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TapOutcome } from '@clubcard/terminal/bridge/kiosk-bridge';
import type { RunningKiosk } from '@clubcard/terminal/main';
import type { KioskConfig } from '@clubcard/terminal/config';
import {
  KioskServices,
  type RedemptionPort,
  type StaffDeskPort,
} from '@clubcard/terminal/server/kiosk-services';
import { bundleUi, type UiAssets } from '@clubcard/terminal/server/ui-bundle';
import { startUiServer } from '@clubcard/terminal/server/ui-server';
import { tapAndAnswer } from '../support/tap.js';
import { StaffStore } from '@clubcard/terminal/store/staff-store';
import type { StaffPolicy } from '@clubcard/terminal/staff/staff-session';
import { SimulatedReader } from '@clubcard/hardware';
import type { TestSystem } from '../support/system.js';

export const TOKEN = 'browser-test-token-0123';

let assets: UiAssets | null = null;

/**
 * A kiosk with the screen's services (language memory, GP queue, redemption, staff
 * mode) served on its own port, as the composition root will serve them once wired.
 */
export interface ScreenKiosk {
  kiosk: RunningKiosk;
  services: KioskServices;
  staffStore: StaffStore;
  url: string;
  reader: SimulatedReader;
  /** Taps a card on the simulated reader; resolves with the kiosk's answer. */
  tap(uid: string): Promise<TapOutcome>;
  close(): Promise<void>;
}

export async function startScreenKiosk(
  sys: TestSystem,
  index: number,
  options: {
    redemption?: RedemptionPort;
    desk?: StaffDeskPort;
    enrolmentDesk?: boolean;
    config?: Partial<KioskConfig>;
    staffPolicy?: StaffPolicy;
  } = {},
): Promise<ScreenKiosk> {
  const kiosk = await sys.startKiosk(index, {
    demo: { tapToken: TOKEN, cards: [] },
    ...options.config,
  });
  assets ??= await bundleUi();
  const staffStore = new StaffStore(kiosk.store.db);
  const services = new KioskServices({
    core: kiosk.core,
    store: kiosk.store,
    staffStore,
    ...(options.redemption ? { redemption: options.redemption } : {}),
    ...(options.desk ? { desk: options.desk } : {}),
    enrolmentDesk: options.enrolmentDesk ?? false,
    ...(options.staffPolicy ? { staffPolicy: options.staffPolicy } : {}),
  });
  // These services make what the screen shows beside a tap, as the composition root's do.
  kiosk.core.setScreenExtras((residentRef) => services.screenExtras(residentRef));
  const reader = kiosk.reader as SimulatedReader;
  const ui = await startUiServer({
    core: kiosk.core,
    assets,
    host: '127.0.0.1',
    port: 0,
    demo:
      kiosk.reader instanceof SimulatedReader
        ? { token: TOKEN, reader, info: { cards: [] } }
        : null,
    services,
  });
  return {
    kiosk,
    services,
    staffStore,
    url: ui.url,
    reader,
    tap: (uid) => tapAndAnswer(kiosk.core, reader, uid),
    async close() {
      services.close();
      await ui.close();
    },
  };
}

/** A page on the kiosk screen, waiting until the screen has its first state. */
export async function openScreen(
  browser: Browser,
  url: string,
  options: { speech?: boolean } = {},
): Promise<{
  context: BrowserContext;
  page: Page;
  spoken: () => Promise<string[]>;
  tones: () => Promise<number[]>;
}> {
  const context = await browser.newContext({ viewport: { width: 1080, height: 1400 } });
  // Record what the screen says aloud (headless Chromium has no voices) and the tones
  // it plays (Web Audio oscillators started).
  await context.addInitScript((withSpeech: boolean) => {
    const said: string[] = [];
    (window as unknown as { __said: string[] }).__said = said;
    const tones: number[] = [];
    (window as unknown as { __tones: number[] }).__tones = tones;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (this: OscillatorNode, when?: number) {
      tones.push(this.frequency.value);
      start.call(this, when);
    };
    if (!withSpeech) return;
    Object.defineProperty(window, 'speechSynthesis', {
      value: { speak: (u: { text: string }) => said.push(u.text), cancel: () => undefined },
    });
  }, options.speech ?? true);
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('#sync[data-online]').waitFor({ state: 'attached' });
  return {
    context,
    page,
    spoken: () => page.evaluate(() => (window as unknown as { __said: string[] }).__said),
    tones: () => page.evaluate(() => (window as unknown as { __tones: number[] }).__tones),
  };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core over the whole page, WCAG 2.0/2.1/2.2 A and AA rules. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') stays on.
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            ctx: Document,
            opts: object,
          ): Promise<{
            violations: {
              id: string;
              impact: string | null;
              help: string;
              nodes: { target: string[] }[];
            }[];
          }>;
        };
      }
    ).axe;
    const r = await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'],
      },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
}

/** Every visible button and input is at least 44 × 44 CSS px. */
export async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const small: string[] = [];
    for (const e of Array.from(document.querySelectorAll<HTMLElement>('button, input, a[href]'))) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // hidden
      if (r.width < 44 || r.height < 44)
        small.push(`${e.id || e.textContent}: ${r.width}×${r.height}`);
    }
    return small;
  });
}

/**
 * Taps a card that the screen services take before the tap pipeline: a staff card, or a
 * new card the desk is waiting for (demo route, token required).
 */
export async function staffTap(url: string, uid: string): Promise<boolean> {
  const r = await fetch(`${url}/api/demo/staff-tap`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ uid }),
  });
  return ((await r.json()) as { staff: boolean }).staff;
}
