import { once } from 'node:events';
import { PcscCardReader, tap, VirtualNtag21x, VirtualNtag424 } from '@clubcard/hardware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePcscd, type PcscdHandle } from '../support/pcscd.js';
import { nextEvent, record } from './helpers.js';

const READER = 'Virtual PCD 00 00';

describe('pcscd restarts and card power cycles', () => {
  let pcscd: PcscdHandle;
  let reader: PcscCardReader;

  async function startReader(beforeStart: (r: PcscCardReader) => void = () => {}): Promise<void> {
    reader = new PcscCardReader({ retry: { initialMs: 100, maxMs: 400 } });
    beforeStart(reader);
    const attached = nextEvent(reader, 'reader-attached', 10_000, (r) => r.name === READER);
    await reader.start();
    await attached;
  }

  beforeAll(async () => {
    pcscd = await ensurePcscd();
    await startReader();
  });

  afterAll(async () => {
    await reader?.stop();
    await pcscd?.stop();
  });

  async function tapOnce(uid: string): Promise<string> {
    const card = new VirtualNtag21x({ uid });
    const tapped = nextEvent(reader, 'tap');
    const removed = nextEvent(reader, 'card-removed');
    await tap(card, { until: tapped });
    const [read] = await tapped;
    await removed;
    return read.identifier;
  }

  it('pcscd killed with a card in the field: card and reader lost, then recovery', async (ctx) => {
    if (!pcscd.owned) ctx.skip(); // only a pcscd we started may be killed
    const card = new VirtualNtag21x({ uid: '04000000000001' });
    const tapped = nextEvent(reader, 'tap');
    await card.present();
    await tapped;
    const log = record(reader);
    const detached = nextEvent(reader, 'reader-detached', 5000, (r) => r.name === READER);
    const unavailable = nextEvent(reader, 'error', 5000, (e) => e.code === 'service-unavailable');
    const cardGone = once(card, 'removed');
    await pcscd.stop('SIGKILL');
    await Promise.all([detached, unavailable]);
    expect(await cardGone).toEqual([{ by: 'peer' }]); // vpcd's socket died with pcscd
    expect(log.events).toContain('card-removed');
    expect(reader.readers()).toEqual([]);
    const back = nextEvent(reader, 'reader-attached', 15_000, (r) => r.name === READER);
    await pcscd.start();
    await back;
    expect(await tapOnce('04000000000002')).toBe('04000000000002');
  });

  it('starts while pcscd is down and attaches once it is up', async (ctx) => {
    if (!pcscd.owned) ctx.skip();
    await reader.stop();
    await pcscd.stop();
    reader = new PcscCardReader({ retry: { initialMs: 100, maxMs: 400 } });
    const unavailable = nextEvent(reader, 'error', 5000, (e) => e.code === 'service-unavailable');
    const attached = nextEvent(reader, 'reader-attached', 15_000, (r) => r.name === READER);
    await reader.start();
    await unavailable;
    await pcscd.start();
    await attached;
    expect(await tapOnce('04000000000003')).toBe('04000000000003');
  });

  it('a card left in the field survives pcscd powering it off, and reads afterwards', async () => {
    await reader.stop();
    const card = VirtualNtag424.personalised({ uid: '04000000000004', keys: [] });
    const powers: string[] = [];
    card.on('power', (p) => powers.push(p));
    await card.present();
    try {
      // No client holds the card, so pcscd powers it down once idle.
      while (!powers.includes('off')) await once(card, 'power');
      let tapped: ReturnType<typeof nextEvent<'tap'>> | undefined;
      await startReader((r) => (tapped = nextEvent(r, 'tap', 10_000)));
      const [read] = (await tapped) ?? [];
      expect(read).toMatchObject({ identifier: '04000000000004', proof: { kind: 'sun' } });
      expect(powers.slice(-2)).toEqual(['off', 'on']);
    } finally {
      await card.remove();
    }
  });
});
