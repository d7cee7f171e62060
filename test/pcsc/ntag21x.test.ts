import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcscCardReader, tap, VirtualNtag21x } from '@clubcard/hardware';
import { ensurePcscd, type PcscdHandle } from '../support/pcscd.js';
import { nextEvent, record } from './helpers.js';

const READER = 'Virtual PCD 00 00';

describe('PC/SC adapter with an NTAG 21x through pcscd + vpcd', () => {
  let pcscd: PcscdHandle;
  let reader: PcscCardReader;

  beforeAll(async () => {
    pcscd = await ensurePcscd();
    reader = new PcscCardReader();
    const attached = nextEvent(reader, 'reader-attached', 10_000, (r) => r.name === READER);
    await reader.start();
    await attached;
  });

  afterAll(async () => {
    await reader?.stop();
    await pcscd?.stop();
  });

  it('sees the virtual reader', () => {
    expect(reader.readers()).toContainEqual({ name: READER, adapter: 'pcsc' });
  });

  it('turns an NTAG 21x tap into a UID-only TapRead', async () => {
    const log = record(reader);
    const card = new VirtualNtag21x({ uid: '04A1B2C3D4E5F6', ndefUri: 'https://example.org/x' });
    const tapped = nextEvent(reader, 'tap');
    const before = performance.now();
    await tap(card, { until: tapped });
    const [read] = await tapped;
    expect(read).toMatchObject({
      readerName: READER,
      technology: 'ntag21x',
      identifier: '04A1B2C3D4E5F6',
      proof: { kind: 'none' },
    });
    expect(read.detectedAt).toBeGreaterThan(before);
    expect(read.apduMs).toBeGreaterThan(0);
    await nextEvent(reader, 'card-removed');
    expect(log.errors).toEqual([]);
    expect(log.events).toEqual(['tap', 'card-removed']);
  });

  it('reads a second, different card after the first left', async () => {
    const card = new VirtualNtag21x({ uid: '04112233445566', variant: 'ntag216' });
    const tapped = nextEvent(reader, 'tap');
    await tap(card, { until: tapped });
    const [read] = await tapped;
    expect(read.identifier).toBe('04112233445566');
    await nextEvent(reader, 'card-removed');
  });
});
