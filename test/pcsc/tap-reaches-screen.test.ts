// Lives in the pcsc tier: every test that drives the machine's one pcscd runs in that
// tier, one file at a time, never beside another tier's pcscd test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { tap, VirtualNtag424 } from '@clubcard/hardware';
import { hexToBytes } from '@clubcard/shared';
import type { CoreMessage, TapOutcome } from '@clubcard/terminal/bridge/kiosk-bridge';
import { deriveIssuedCardKeys, type IssuingKeys } from '@clubcard/terminal/card-auth/card-keys';
import { artifactPath, launchChromium } from '../support/browser.js';
import { ensurePcscd, type PcscdHandle } from '../support/pcscd.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import {
  axeViolations,
  openScreen,
  startScreenKiosk,
  type ScreenKiosk,
} from '../browser/screen-harness.js';

/**
 * The whole way to the screen: virtual NTAG 424 DNA → vpcd → the machine's pcscd →
 * nfc-pcsc → PcscCardReader → kiosk core (SUN verified offline) → SQLite → screen
 * services → the resident's screen in Chromium.
 */
const READ_MASTER = randomBytes(16);
const ISSUING: IssuingKeys = {
  issuingKeyVersion: 1,
  issuingMasterKey: randomBytes(16),
  readKeyVersion: 1,
  readMasterKey: READ_MASTER,
};
const UID = '04AA11BB22CC77';

let pcscd: PcscdHandle;
let sys: TestSystem;
let browser: Browser;
let k: ScreenKiosk;

beforeAll(async () => {
  pcscd = await ensurePcscd();
  sys = await createTestSystem();
  sys.admin((admin) => {
    const ref = admin.addResident({ firstName: 'Nia', ageBand: '20-29', ward: 'riverside' });
    admin.issueCard({ residentRef: ref, uid: UID, technology: 'ntag424', keyVersion: 1 });
  });
  await sys.startBackend();
  browser = await launchChromium();
  k = await startScreenKiosk(sys, 0, {
    config: {
      reader: 'pcsc',
      demo: null,
      readKeys: {
        current: { version: 1, masterKeyHex: READ_MASTER.toString('hex') },
        previous: null,
      },
    },
  });
  await k.kiosk.sync.syncOnce();
  if (k.kiosk.reader.readers().length === 0) {
    await new Promise<void>((resolve) => k.kiosk.reader.once('reader-attached', () => resolve()));
  }
}, 60_000);

afterAll(async () => {
  await k?.close();
  await browser?.close();
  await sys?.cleanup();
  await pcscd?.stop();
});

describe('a real PC/SC tap reaches the screen', () => {
  it('shows a genuine NTAG 424 DNA tap as recorded, and a clone without keys as not genuine', async () => {
    const { page, context } = await openScreen(browser, k.url);
    const keys = deriveIssuedCardKeys(ISSUING, hexToBytes(UID));
    const card = VirtualNtag424.personalised({
      uid: UID,
      keys: [
        keys.appMaster.key,
        keys.sdmFileRead.key,
        keys.sdmMetaRead.key,
        keys.spare3.key,
        keys.spare4.key,
      ],
    });
    const answered = (): Promise<TapOutcome> =>
      new Promise((resolve) => {
        const on = (m: CoreMessage): void => {
          if (m.type === 'outcome') {
            k.kiosk.core.off('message', on);
            resolve(m.outcome);
          }
        };
        k.kiosk.core.on('message', on);
      });
    const first = answered();
    await tap(card, { until: first });
    expect((await first).kind).toBe('recorded');
    await page.locator('#result[data-kind="recorded"]').waitFor();
    expect(await page.locator('#result-title').innerText()).toBe('Welcome, Nia');
    await page.screenshot({ path: artifactPath('pcsc-tap-recorded.png'), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);

    // Same UID, other keys: the SUN MAC does not verify.
    const clone = VirtualNtag424.personalised({
      uid: UID,
      keys: [randomBytes(16), randomBytes(16), randomBytes(16), randomBytes(16), randomBytes(16)],
    });
    const second = answered();
    await tap(clone, { until: second });
    await page.locator('#result[data-code="card-not-genuine"]').waitFor();
    expect(await page.locator('#result-detail').innerText()).toBe('We could not check this card.');
    await page.screenshot({ path: artifactPath('pcsc-tap-not-genuine.png'), fullPage: true });
    await context.close();
  });
});
