/**
 * Part of bench:tap, run as its own process: holds the bench's two virtual cards (an
 * NTAG 424 DNA with SUN and a UID-only NTAG 21x) and taps them on vpcd when told, so
 * that a card answers from outside the kiosk's process, as a real card does. In the
 * kiosk's process, the card's work (answering APDUs, its socket, its garbage) would run
 * on the kiosk's own thread and heap.
 *
 * Driven over the IPC channel (one schema per message, below): `tap` puts a card in the
 * field; it stays until `release` (or 5 s, or a fault), then leaves, and the host
 * answers `tapped` (or `tap-failed` with the reason).
 */
import { tap, VirtualNtag21x, VirtualNtag424, type VirtualCard } from '@clubcard/hardware';
import { hexToBytes } from '@clubcard/shared';
import { CardHostCommand, type CardHostReply } from './card-host-protocol.js';

const HOLD_MS = 5000;

function reply(r: CardHostReply): void {
  process.send?.(r);
}

let cards: Record<'sun' | 'uid', VirtualCard> | null = null;
const releases = new Map<number, () => void>();

process.on('message', (raw: unknown) => {
  const parsed = CardHostCommand.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`card host: refused a message: ${parsed.error.message}\n`);
    return;
  }
  const m = parsed.data;
  if (m.type === 'setup') {
    cards = {
      sun: VirtualNtag424.personalised({
        uid: m.sunUid,
        keys: m.sunKeys.map((h) => hexToBytes(h)),
      }),
      uid: new VirtualNtag21x({ uid: m.plainUid }),
    };
    reply({ type: 'ready' });
    return;
  }
  if (m.type === 'release') {
    releases.get(m.id)?.();
    return;
  }
  if (cards === null) {
    reply({ type: 'tap-failed', id: m.id, message: 'no cards: setup first' });
    return;
  }
  const until = new Promise<void>((res) => releases.set(m.id, res));
  tap(cards[m.kind], { until, holdMs: HOLD_MS }).then(
    () => {
      releases.delete(m.id);
      reply({ type: 'tapped', id: m.id });
    },
    (e: unknown) => {
      releases.delete(m.id);
      reply({ type: 'tap-failed', id: m.id, message: (e as Error).message });
    },
  );
});

// The bench gone: nothing left to tap for.
process.on('disconnect', () => process.exit(0));
