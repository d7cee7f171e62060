import { randomBytes } from 'node:crypto';
import { VirtualNtag424, type ApduChannelSource, type TapRead } from '@clubcard/hardware';
import { bytesToHex, cardHashOf } from '@clubcard/shared';
import { describe, expect, it } from 'vitest';
import { authenticateTap } from './authenticate-tap.js';
import { deriveIssuedCardKeys, type IssuingKeys } from './card-keys.js';
import { CardPersonaliser, type KeysFound, type PersonaliseResult } from './personalise-card.js';

/**
 * The enrolment desk's personalisation against the emulated NTAG 424 DNA, in-process
 * (the same card model the PC/SC tier drives through pcscd): blank card → keys and SUN
 * → read back and verified; refusals; a card taken away part-way, at every command, and
 * finished when presented again.
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

/**
 * A reader whose card is pulled away at the n-th APDU: the card carries that command out
 * but its answer never arrives (the desk cannot know whether it took effect), and every
 * later exchange fails. The card's session ends, as a real card's does off the field.
 */
function readerPulledAt(card: VirtualNtag424, n: number): ApduChannelSource {
  let open = true;
  let count = 0;
  return {
    channel: () => ({
      readerName: 'R',
      technology: 'ntag424',
      get open() {
        return open;
      },
      transmit: async (apdu) => {
        if (!open) throw new Error('card gone');
        const response = await card.transceive(apdu);
        if (++count < n) return response;
        open = false;
        card.fieldReset();
        throw new Error('card gone');
      },
    }),
  };
}

function personaliser(source: ApduChannelSource, issuing = ISSUING): CardPersonaliser {
  return new CardPersonaliser({
    channels: source,
    issuing,
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

/** What personalisation leaves on a card: keys, key versions, file settings, NDEF file. */
function stateOf(card: VirtualNtag424): unknown {
  return {
    keys: [0, 1, 2, 3, 4].map((n) => [bytesToHex(card.key(n)), card.keyVersion(n)]),
    files: [1, 2, 3].map((n) => card.fileSettings(n)),
    ndef: bytesToHex(card.storedNdefFile()),
    counter: card.readCounter,
  };
}

/** A card of UID personalised in one go by this desk, read `counter` times since. */
function personalisedState(counter: number): unknown {
  const keys = deriveIssuedCardKeys(ISSUING, Buffer.from(UID, 'hex'));
  const card = VirtualNtag424.personalised({
    uid: UID,
    keys: [keys.appMaster, keys.sdmFileRead, keys.sdmMetaRead, keys.spare3, keys.spare4].map(
      (k) => k.key,
    ),
    keyVersions: [7, 3, 3, 7, 7],
    readCounter: counter,
  });
  return stateOf(card);
}

/** The INS of every command that writes to the card (UPDATE BINARY, ChangeFileSettings, ChangeKey). */
function writesTo(card: VirtualNtag424): number[] {
  const writes: number[] = [];
  card.on('apdu', (x) => {
    const ins = x.command[1] ?? 0;
    if ([0xd6, 0x5f, 0xc4].includes(ins)) writes.push(ins);
  });
  return writes;
}

/** The desk's answer for a card made (or finished) and read back as the counter-th tap. */
function madeOk(counter: number, keysFound: KeysFound): PersonaliseResult {
  return { ok: true, uid: UID, auth: { method: 'sun', keyVersion: 3, counter }, keysFound };
}

/** A refusal's reason names no UID and no key. */
function expectNothingSecret(result: PersonaliseResult): void {
  const reason = result.ok ? '' : result.reason.toUpperCase();
  expect(reason).not.toContain(UID);
  const keys = deriveIssuedCardKeys(ISSUING, Buffer.from(UID, 'hex')).changeOrder;
  for (const k of keys) expect(reason).not.toContain(bytesToHex(k.key).toUpperCase());
}

describe('enrolment desk card personalisation', () => {
  it('personalises a blank card, which then reads back as a genuine SUN card under the read keys', async () => {
    const card = VirtualNtag424.blank(UID);
    const { source } = readerWith(card);
    const made = await personaliser(source).personalise(tapOf(UID.toLowerCase()));
    expect(made).toEqual(madeOk(1, 'factory'));
    expect(stateOf(card)).toEqual(personalisedState(1));
  });

  it('recognises a card it personalised before and leaves it as it was', async () => {
    const card = VirtualNtag424.blank(UID);
    await personaliser(readerWith(card).source).personalise(tapOf(UID));
    card.fieldReset();
    const writes = writesTo(card);
    const again = await personaliser(readerWith(card).source).personalise(tapOf(UID));
    expect(again).toEqual(madeOk(2, 'ours'));
    // Only the read-back moved the counter; nothing was written to it again.
    expect(stateOf(card)).toEqual(personalisedState(2));
    expect(writes).toEqual([]);
  });

  it('finishes a card taken away at any command of an earlier run, ending as one made in one go', async () => {
    const reference = VirtualNtag424.blank(UID);
    const { source, sent } = readerWith(reference);
    await personaliser(source).personalise(tapOf(UID));
    // Every APDU of the run: the personalisation steps up to the last ChangeKey, then the
    // read-back (whose first NDEF read moves the counter).
    const lastChangeKey = sent.lastIndexOf(0xc4) + 1;
    expect(sent.filter((ins) => ins === 0xc4)).toHaveLength(5);
    expect(sent.slice(lastChangeKey)).toContain(0xb0);
    for (let n = 1; n <= sent.length; n++) {
      const card = VirtualNtag424.blank(UID);
      const first = await personaliser(readerPulledAt(card, n)).personalise(tapOf(UID));
      expect(first, `pulled at APDU ${n}`).toMatchObject({
        ok: false,
        code: 'card-personalisation-interrupted',
      });
      expectNothingSecret(first);
      const changedBefore = sent.slice(0, n).filter((ins) => ins === 0xc4).length;
      const retry = await personaliser(readerWith(card).source).personalise(tapOf(UID));
      expect(retry, `pulled at APDU ${n}`).toEqual(
        madeOk(
          card.readCounter,
          changedBefore === 0 ? 'factory' : changedBefore === 5 ? 'ours' : 'partly-ours',
        ),
      );
      // Pulled during personalisation: the very state of a card made in one go; pulled
      // during the read-back, that read may have counted one tap more.
      const counter = n <= lastChangeKey ? 1 : card.readCounter;
      expect(stateOf(card), `pulled at APDU ${n}`).toEqual(personalisedState(counter));
      expect(counter).toBeLessThanOrEqual(2);
    }
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
    expect(changeKeys).toBe(3); // the third ChangeKey never reached the card
    expect(card.keyVersion(2)).toBe(3);
    expect(card.keyVersion(3)).toBe(0);
    // Presented again, it is finished.
    card.clearFaults();
    card.fieldReset();
    const again = await personaliser(readerWith(card).source).personalise(tapOf(UID));
    expect(again).toMatchObject({ ok: true, keysFound: 'partly-ours' });
    expect(stateOf(card)).toEqual(personalisedState(1));
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

  it('refuses a card whose keys are neither factory nor ours (someone else’s card), changing nothing', async () => {
    const ours = deriveIssuedCardKeys(ISSUING, Buffer.from(UID, 'hex'));
    const cards = {
      // Other keys, versions left at 00h: the factory key 0 does not open it.
      'other keys': VirtualNtag424.personalised({
        uid: UID,
        keys: [0, 1, 2, 3, 4].map(() => randomBytes(16)),
      }),
      // Other keys under the very versions this desk writes: our key 0 does not open it.
      'other keys, our versions': VirtualNtag424.personalised({
        uid: UID,
        keys: [0, 1, 2, 3, 4].map(() => randomBytes(16)),
        keyVersions: [7, 3, 3, 7, 7],
      }),
      // Our keys of an earlier issuing key version: refused on the versions alone.
      'another key version': VirtualNtag424.personalised({
        uid: UID,
        keys: [ours.appMaster, ours.sdmFileRead, ours.sdmMetaRead, ours.spare3, ours.spare4].map(
          (k) => k.key,
        ),
        keyVersions: [6, 3, 3, 6, 6],
      }),
    };
    for (const [what, card] of Object.entries(cards)) {
      const before = stateOf(card);
      const writes = writesTo(card);
      const made = await personaliser(readerWith(card).source).personalise(tapOf(UID));
      expect(made, what).toMatchObject({ ok: false, code: 'card-personalisation-failed' });
      expectNothingSecret(made);
      expect(writes, what).toEqual([]);
      expect(stateOf(card), what).toEqual(before);
    }
    const versioned = await personaliser(
      readerWith(cards['another key version']).source,
    ).personalise(tapOf(UID));
    expect(versioned.ok ? '' : versioned.reason).toMatch(/another issuer or key version/);
  });

  it('is not built with key version 0, which a card taken away part-way could not be told by', () => {
    expect(() =>
      personaliser(readerWith(null).source, { ...ISSUING, issuingKeyVersion: 0 }),
    ).toThrow(/versions 1-255/);
    expect(() => personaliser(readerWith(null).source, { ...ISSUING, readKeyVersion: 0 })).toThrow(
      /versions 1-255/,
    );
  });
});
