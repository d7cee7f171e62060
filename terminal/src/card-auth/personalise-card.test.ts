import { randomBytes } from 'node:crypto';
import { VirtualNtag424, type ApduChannelSource, type TapRead } from '@clubcard/hardware';
import { cardHashOf } from '@clubcard/shared';
import { describe, expect, it } from 'vitest';
import { authenticateTap } from './authenticate-tap.js';
import type { IssuingKeys } from './card-keys.js';
import { CardPersonaliser } from './personalise-card.js';

/**
 * The enrolment desk's personalisation against the emulated NTAG 424 DNA, in-process
 * (the same card model the PC/SC tier drives through pcscd): blank card → keys and SUN
 * → read back and verified; refusals and a card taken away part-way.
 */
const READ_MASTER = randomBytes(16);
const ISSUING: IssuingKeys = {
  issuingKeyVersion: 7,
  issuingMasterKey: randomBytes(16),
  readKeyVersion: 3,
  readMasterKey: READ_MASTER,
};
const UID = '04C0FFEE000001';
const HASH_KEY = '22'.repeat(32);

const tapOf = (identifier: string): TapRead => ({
  readerName: 'R',
  technology: 'ntag424',
  identifier,
  proof: { kind: 'none' },
  detectedAt: 0,
  apduMs: 0,
});

/** An APDU channel source over the emulated card; closed once the card has "left". */
function readerWith(card: VirtualNtag424 | null): { source: ApduChannelSource; sent: number[] } {
  const sent: number[] = [];
  let open = card !== null;
  const source: ApduChannelSource = {
    channel: () =>
      card
        ? {
            readerName: 'R',
            technology: 'ntag424',
            get open() {
              return open;
            },
            transmit: async (apdu) => {
              sent.push(apdu[1]!);
              try {
                return await card.transceive(apdu);
              } catch (e) {
                open = false;
                throw e;
              }
            },
          }
        : undefined,
  };
  return { source, sent };
}

function personaliser(source: ApduChannelSource): CardPersonaliser {
  return new CardPersonaliser({
    channels: source,
    issuing: ISSUING,
    authenticate: (tap) =>
      authenticateTap(
        tap,
        { allowUidOnly: false },
        {
          keyRing: { current: { version: 3, masterKey: READ_MASTER } },
          cardHash: (uid) => cardHashOf(HASH_KEY, uid),
          highestCounter: () => null,
        },
      ),
    removalGraceMs: 50,
  });
}

describe('enrolment desk card personalisation', () => {
  it('personalises a blank card, which then reads back as a genuine SUN card under the read keys', async () => {
    const card = VirtualNtag424.blank(UID);
    const { source } = readerWith(card);
    const made = await personaliser(source).personalise(tapOf(UID.toLowerCase()));
    expect(made).toEqual({
      ok: true,
      uid: UID,
      auth: { method: 'sun', keyVersion: 3, counter: 1 },
    });
    // Keys changed and writes locked: personalising it again is refused by the card.
    const again = await personaliser(readerWith(card).source).personalise(tapOf(UID));
    expect(again).toMatchObject({ ok: false, code: 'card-personalisation-failed' });
    expect(again.ok ? '' : again.reason).not.toContain(UID);
  });

  it('says the card was taken away when it leaves part-way, and issues nothing', async () => {
    const card = VirtualNtag424.blank(UID);
    let changeKeys = 0;
    card.on('apdu', (x) => {
      if (x.command[1] === 0xc4 && ++changeKeys === 2) {
        card.injectFault({ kind: 'remove-during-apdu', atApdu: x.index + 1 });
      }
    });
    const made = await personaliser(readerWith(card).source).personalise(tapOf(UID));
    expect(made).toMatchObject({ ok: false, code: 'card-personalisation-interrupted' });
    expect(changeKeys).toBe(3); // the third ChangeKey never got its answer
  });

  it('refuses a card gone before it starts, and a Random ID card, sending nothing', async () => {
    expect(await personaliser(readerWith(null).source).personalise(tapOf(UID))).toMatchObject({
      ok: false,
      code: 'card-personalisation-interrupted',
    });
    const { source, sent } = readerWith(VirtualNtag424.blank(UID));
    expect(await personaliser(source).personalise(tapOf('08A1B2C3'))).toMatchObject({
      ok: false,
      code: 'card-personalisation-failed',
    });
    expect(sent).toEqual([]);
  });

  it('refuses a card whose keys are not the factory ones (someone else’s card)', async () => {
    const foreign = VirtualNtag424.personalised({
      uid: UID,
      keys: [0, 1, 2, 3, 4].map(() => randomBytes(16)),
    });
    const made = await personaliser(readerWith(foreign).source).personalise(tapOf(UID));
    expect(made).toMatchObject({ ok: false, code: 'card-personalisation-failed' });
  });
});
