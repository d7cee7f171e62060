/**
 * bench:tap — tap latency through the real stack: virtual card → vpcd → pcscd →
 * nfc-pcsc → PcscCardReader → kiosk core (authenticate, resolve, rules, ONE SQLite
 * transaction with synchronous=FULL) → UI message. Measured from the reader's card event
 * to the UI being told; `own` subtracts the time spent inside APDU exchanges. Detection
 * latency (card in the field → card event; pcscd polls vpcd about every 400 ms) is
 * reported separately. Last line: one JSON object with the figures.
 */
import { randomBytes } from 'node:crypto';
import { tap, VirtualNtag21x, VirtualNtag424, type CardReader } from '@clubcard/hardware';
import { hexToBytes } from '@clubcard/shared';
import { deriveIssuedCardKeys } from '@clubcard/terminal/card-auth/card-keys';
import { ensurePcscd } from '../support/pcscd.js';
import { createTestSystem } from '../support/system.js';

const TAPS = Number(process.env.BENCH_TAPS ?? 500);
const READ_MASTER = randomBytes(16);
const ISSUING = {
  issuingKeyVersion: 1,
  issuingMasterKey: randomBytes(16),
  readKeyVersion: 1,
  readMasterKey: READ_MASTER,
};
const SECURE_UID = '04BE0C0000AA01';
const PLAIN_UID = '04BE0C0000AA02';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return +(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN).toFixed(2);
}

const pcscd = await ensurePcscd();
const sys = await createTestSystem();
try {
  sys.admin((admin) => {
    for (const [uid, technology] of [
      [SECURE_UID, 'ntag424'],
      [PLAIN_UID, 'ntag21x'],
    ] as const) {
      const ref = admin.addResident({ firstName: null, ageBand: '30-44', ward: 'riverside' });
      admin.issueCard({ residentRef: ref, uid, technology, keyVersion: 1 });
    }
  });
  await sys.startBackend();
  const kiosk = await sys.startKiosk(0, {
    reader: 'pcsc',
    demo: null,
    readKeys: {
      current: { version: 1, masterKeyHex: READ_MASTER.toString('hex') },
      previous: null,
    },
  });
  await kiosk.sync.syncOnce();
  await kiosk.sync.stop(); // the bench measures the tap path, not sync
  const reader: CardReader = kiosk.reader;
  if (reader.readers().length === 0) {
    await new Promise<void>((r) => reader.once('reader-attached', () => r()));
  }
  const k = deriveIssuedCardKeys(ISSUING, hexToBytes(SECURE_UID));
  const cards = {
    sun: VirtualNtag424.personalised({
      uid: SECURE_UID,
      keys: [k.appMaster.key, k.sdmFileRead.key, k.sdmMetaRead.key, k.spare3.key, k.spare4.key],
    }),
    uid: new VirtualNtag21x({ uid: PLAIN_UID }),
  };
  let emittedAt = 0;
  reader.prependListener('tap', () => {
    emittedAt = performance.now();
  });
  const pipeline: number[] = [];
  const results: Record<
    string,
    { span: number[]; own: number[]; detect: number[]; refused: number }
  > = {};
  for (const [kind, card] of Object.entries(cards)) {
    const r = { span: [] as number[], own: [] as number[], detect: [] as number[], refused: 0 };
    results[kind] = r;
    for (let i = 0; i < TAPS; i++) {
      const presentedAt = performance.now();
      const timing = new Promise<{
        detectedAt: number;
        notifiedAt: number;
        apduMs: number;
        recorded: boolean;
      }>((res) => kiosk.core.once('tap-timing', res));
      await tap(card, { until: timing, holdMs: 5000 });
      const t = await timing;
      if (!t.recorded) r.refused++;
      r.span.push(t.notifiedAt - t.detectedAt);
      pipeline.push(t.notifiedAt - emittedAt);
      r.own.push(t.notifiedAt - t.detectedAt - t.apduMs);
      r.detect.push(t.detectedAt - presentedAt);
      // Wait for pcscd to see the card leave before the next tap.
      await new Promise((res) => setTimeout(res, 450));
      if ((i + 1) % 25 === 0 || i + 1 === TAPS)
        process.stderr.write(`\r${kind} taps ${i + 1}/${TAPS}`);
    }
    process.stderr.write('\n');
  }
  const sun = results.sun!;
  const uid = results.uid!;
  const all = [...sun.span, ...uid.span];
  const allOwn = [...sun.own, ...uid.own];
  const allDetect = [...sun.detect, ...uid.detect];
  process.stderr.write(
    `kiosk core (tap event → UI told): p50 ${pct(pipeline, 50)} ms, p99 ${pct(pipeline, 99)} ms\n`,
  );
  for (const [kind, r] of Object.entries(results)) {
    process.stderr.write(
      `${kind}: p50 ${pct(r.span, 50)} ms, p99 ${pct(r.span, 99)} ms, own p99 ${pct(r.own, 99)} ms, detect p50 ${pct(r.detect, 50)} ms, refused ${r.refused}\n`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'tap',
      taps: all.length,
      p50_ms: pct(all, 50),
      p99_ms: pct(all, 99),
      own_p99_ms: pct(allOwn, 99),
      detect_p50_ms: pct(allDetect, 50),
      detect_p99_ms: pct(allDetect, 99),
      sun_p50_ms: pct(sun.span, 50),
      sun_p99_ms: pct(sun.span, 99),
      sun_own_p99_ms: pct(sun.own, 99),
      uid_p50_ms: pct(uid.span, 50),
      uid_p99_ms: pct(uid.span, 99),
      uid_own_p99_ms: pct(uid.own, 99),
      refused: sun.refused + uid.refused,
    }),
  );
} finally {
  await sys.cleanup();
  await pcscd.stop();
}
