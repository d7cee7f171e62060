import { verifySun, type SunMessage } from '@clubcard/shared';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../pcsc/bytes.js';
import { readType4Sun, readUid, type Transmit } from '../pcsc/card-reads.js';
import {
  authenticateEv2First,
  changeFileSettings,
  ForeignCardKeysError,
  getKeyVersion,
  getNtag424Version,
  Ntag424CommandError,
  personaliseNtag424,
  selectNdefApplication,
  sunFileSettings,
  writeNdefFile,
  type PersonalisationPlan,
} from '../pcsc/ntag424-commands.js';
import {
  buildSunTemplate,
  DEFAULT_SUN_URL_LAYOUT,
  type SunProof,
  type SunUrlLayout,
} from '../pcsc/sun-url.js';
import { VirtualNtag424 } from './virtual-ntag424.js';

const UID = '04DE5F1EACC040';
const K = (n: number): Uint8Array => new Uint8Array(16).fill(0x10 + n);
const KEYS = [K(0), K(1), K(2), K(3), K(4)];

/** Keys K(0)-K(4) with one version, the default SUN template, from a factory-fresh card. */
function planFor(version: number): PersonalisationPlan {
  const template = buildSunTemplate();
  return {
    currentAppMasterKey: new Uint8Array(16),
    keys: [1, 2, 3, 4, 0].map((keyNo) => ({ keyNo, key: K(keyNo), version })),
    ndefFile: template.ndefFile,
    ndefFileSettings: sunFileSettings(template),
  };
}

function channel(card: VirtualNtag424): Transmit {
  return (apdu) => card.transceive(apdu);
}

/** One tap's read: a new activation (field reset), then the Type 4 NDEF read. */
async function tapRead(
  card: VirtualNtag424,
  layout: SunUrlLayout = DEFAULT_SUN_URL_LAYOUT,
): Promise<SunProof | undefined> {
  card.fieldReset();
  const result = await readType4Sun(channel(card), layout);
  return result.kind === 'sun' ? result.proof : undefined;
}

function message(proof: SunProof): SunMessage {
  const common = {
    cmac: fromHex(proof.cmac),
    macInput: new TextEncoder().encode(proof.macInput ?? ''),
    ...(proof.encFileData ? { encFileData: fromHex(proof.encFileData) } : {}),
  };
  return proof.piccData
    ? { piccData: fromHex(proof.piccData), ...common }
    : { uid: fromHex(proof.uid ?? ''), counter: proof.counter ?? null, ...common };
}

describe('VirtualNtag424 SUN', () => {
  it('mirrors a SUN message that verifies with the shared crypto; the counter moves per tap', async () => {
    const card = VirtualNtag424.personalised({ uid: UID, keys: KEYS });
    const keys = { metaReadKey: K(2), fileReadKey: K(1) };
    const first = await tapRead(card);
    const second = await tapRead(card);
    expect(first && verifySun(keys, message(first))).toMatchObject({ valid: true, counter: 1 });
    const v2 = second && verifySun(keys, message(second));
    expect(v2).toMatchObject({ valid: true, counter: 2 });
    expect(v2?.uid && toHex(v2.uid)).toBe(UID);
    expect(card.readCounter).toBe(2);
    expect(first?.piccData).not.toBe(second?.piccData);
  });

  it('keeps one counter value within an activation (NLEN read and content read)', async () => {
    const card = VirtualNtag424.personalised({ uid: UID, keys: KEYS });
    card.fieldReset();
    await readType4Sun(channel(card));
    const again = await readType4Sun(channel(card)); // re-SELECT: a new read session
    expect(card.readCounter).toBe(2);
    expect(again.kind).toBe('sun');
  });

  it('reproduces AN12196 p.12: zero keys, UID 04DE5F1EACC040, counter 61, empty MAC input', async () => {
    // The reader must parse with the layout the card was personalised with.
    const layout: SunUrlLayout = { ...DEFAULT_SUN_URL_LAYOUT, macInputFrom: 'none' };
    const card = VirtualNtag424.personalised({ uid: UID, keys: [], readCounter: 60, layout });
    const proof = await tapRead(card, layout);
    expect(proof?.macInput).toBe('');
    expect(proof?.cmac).toBe('94EED9EE65337086');
  });

  it('mirrors encrypted file data covered by the MAC', async () => {
    const plain = new TextEncoder().encode('member:000123456');
    const card = VirtualNtag424.personalised({ uid: UID, keys: KEYS, encFileData: plain });
    const proof = await tapRead(card);
    expect(proof?.encFileData).toMatch(/^[0-9A-F]{32}$/);
    const v = proof && verifySun({ metaReadKey: K(2), fileReadKey: K(1) }, message(proof));
    expect(v?.valid).toBe(true);
    expect(v?.valid && v.fileData && new TextDecoder().decode(v.fileData)).toBe('member:000123456');
  });

  it('mirrors UID and counter in clear when SDMMetaRead is Eh', async () => {
    const card = VirtualNtag424.personalised({ uid: UID, keys: KEYS, mirror: 'plain' });
    const proof = await tapRead(card);
    expect(proof).toMatchObject({ uid: UID, counter: 1 });
    expect(proof && verifySun({ fileReadKey: K(1) }, message(proof)).valid).toBe(true);
  });

  it("a clone with the victim's UID but other keys does not verify", async () => {
    const clone = VirtualNtag424.personalised({ uid: UID, keys: [K(9), K(9), K(9)] });
    const proof = await tapRead(clone);
    const v = proof && verifySun({ metaReadKey: K(2), fileReadKey: K(1) }, message(proof));
    expect(v?.valid).toBe(false);
  });

  it('replays a recorded SUN message without moving the counter', async () => {
    const card = VirtualNtag424.personalised({ uid: UID, keys: KEYS });
    const first = await tapRead(card);
    card.replaySun();
    const replayed = await tapRead(card);
    expect(replayed).toEqual(first);
    expect(card.readCounter).toBe(1);
    card.stopReplay();
    expect((await tapRead(card))?.cmac).not.toBe(first?.cmac);
  });

  it('answers GET DATA and GetVersion with its UID', async () => {
    const card = VirtualNtag424.blank(UID);
    expect(await readUid(channel(card))).toBe(UID);
    const version = await getNtag424Version(channel(card));
    expect(toHex(version.hardware)).toBe('04040230001105');
    expect(toHex(version.production.subarray(0, 7))).toBe(UID);
  });
});

describe('VirtualNtag424 personalisation', () => {
  it('a blank card reads without SUN, is personalised, then taps as genuine', async () => {
    const card = VirtualNtag424.blank(UID);
    card.fieldReset();
    expect((await readType4Sun(channel(card))).kind).toBe('no-sun');
    const template = buildSunTemplate();
    card.fieldReset();
    await personaliseNtag424(channel(card), {
      currentAppMasterKey: new Uint8Array(16),
      keys: [1, 2, 3, 4, 0].map((keyNo) => ({ keyNo, key: K(keyNo), version: 7 })),
      ndefFile: template.ndefFile,
      ndefFileSettings: sunFileSettings(template),
    });
    for (const n of [0, 1, 2, 3, 4]) expect(toHex(card.key(n))).toBe(toHex(K(n)));
    expect(card.keyVersion(1)).toBe(7);
    expect(card.fileSettings(2)?.sdm?.metaRead).toBe(2);
    const proof = await tapRead(card);
    expect(
      proof && verifySun({ metaReadKey: K(2), fileReadKey: K(1) }, message(proof)),
    ).toMatchObject({
      valid: true,
      counter: 1,
    });
    // The factory key no longer opens it, the new one does; the URL is write-protected.
    card.fieldReset();
    await selectNdefApplication(channel(card));
    await expect(authenticateEv2First(channel(card), 0, new Uint8Array(16))).rejects.toThrow(
      /91AE/,
    );
    await expect(authenticateEv2First(channel(card), 0, K(0))).resolves.toMatchObject({ keyNo: 0 });
    await expect(writeNdefFile(channel(card), template.ndefFile)).rejects.toThrow(/6982/);
  });

  it('run again on a card it finished, leaves keys, versions, settings and URL as they were', async () => {
    const card = VirtualNtag424.blank(UID);
    const plan = planFor(7);
    await personaliseNtag424(channel(card), plan);
    const state = (): unknown => ({
      keys: [0, 1, 2, 3, 4].map((n) => [toHex(card.key(n)), card.keyVersion(n)]),
      settings: card.fileSettings(2),
      ndef: toHex(card.storedNdefFile()),
      counter: card.readCounter,
    });
    const before = state();
    card.fieldReset();
    expect(await personaliseNtag424(channel(card), plan)).toEqual({
      keysAlreadyChanged: [1, 2, 3, 4, 0],
    });
    expect(state()).toEqual(before);
  });

  it('refuses a card whose key versions are neither the factory nor the plan, writing nothing', async () => {
    const other = new VirtualNtag424({ uid: UID, keyVersions: [0, 0, 5] });
    const writes: number[] = [];
    other.on('apdu', (x) => {
      if ([0xd6, 0x5f, 0xc4].includes(x.command[1] ?? 0)) writes.push(x.command[1] ?? 0);
    });
    const plan = planFor(7);
    await expect(personaliseNtag424(channel(other), plan)).rejects.toBeInstanceOf(
      ForeignCardKeysError,
    );
    expect(toHex(other.storedNdefFile())).toBe('00'.repeat(256));
    expect(other.fileSettings(2)?.sdm).toBeNull();
    expect(writes).toEqual([]);
    await expect(
      personaliseNtag424(channel(VirtualNtag424.blank(UID)), {
        ...plan,
        keys: [{ keyNo: 1, key: K(1), version: 0 }],
      }),
    ).rejects.toThrow(/factory version/);
  });

  it('refuses key changes without authentication and tampered secure messages', async () => {
    const card = VirtualNtag424.blank(UID);
    const t = channel(card);
    await selectNdefApplication(t);
    expect(
      toHex(await t(fromHex('90C40000190100112233445566778899AABBCCDDEEFF0011223344556600'))),
    ).toBe('919D');
    const session = await authenticateEv2First(t, 0, new Uint8Array(16));
    expect(session.cmdCtr).toBe(0);
    const settings = sunFileSettings(buildSunTemplate());
    const { buildChangeFileSettings } = await import('@clubcard/shared');
    const command = buildChangeFileSettings(session, 2, settings);
    const tampered = new Uint8Array(command.apdu);
    tampered[7] = (tampered[7] ?? 0) ^ 1;
    expect(toHex(await t(tampered))).toBe('911E');
    // The error ended the session.
    expect(toHex(await t(command.apdu))).toBe('919D');
  });

  it('rejects SDM offsets outside the file with a parameter error', async () => {
    const card = VirtualNtag424.blank(UID);
    const t = channel(card);
    await selectNdefApplication(t);
    const session = await authenticateEv2First(t, 0, new Uint8Array(16));
    const settings = sunFileSettings(buildSunTemplate());
    if (settings.sdm) settings.sdm.macOffset = 250;
    await expect(changeFileSettings(t, session, 2, settings)).rejects.toBeInstanceOf(
      Ntag424CommandError,
    );
  });
});

describe('VirtualNtag424 GetKeyVersion', () => {
  it('answers plain without a session: 00h on a blank card, the given versions otherwise', async () => {
    const blank = VirtualNtag424.blank(UID);
    await selectNdefApplication(channel(blank));
    for (const n of [0, 1, 2, 3, 4]) {
      expect(await getKeyVersion(channel(blank), n)).toEqual({ keyVersion: 0 });
    }
    const card = VirtualNtag424.personalised({ uid: UID, keys: KEYS, keyVersions: [9, 3, 3] });
    await selectNdefApplication(channel(card));
    const versions = [];
    for (const n of [0, 1, 2, 3, 4])
      versions.push((await getKeyVersion(channel(card), n)).keyVersion);
    expect(versions).toEqual([9, 3, 3, 0, 0]);
  });

  it('reports the versions ChangeKey wrote', async () => {
    const card = VirtualNtag424.blank(UID);
    const template = buildSunTemplate();
    const progress = await personaliseNtag424(channel(card), {
      currentAppMasterKey: new Uint8Array(16),
      keys: [1, 2, 3, 4, 0].map((keyNo) => ({ keyNo, key: K(keyNo), version: 0x20 + keyNo })),
      ndefFile: template.ndefFile,
      ndefFileSettings: sunFileSettings(template),
    });
    expect(progress).toEqual({ keysAlreadyChanged: [] });
    card.fieldReset();
    await selectNdefApplication(channel(card));
    for (const n of [0, 1, 2, 3, 4]) {
      expect((await getKeyVersion(channel(card), n)).keyVersion).toBe(0x20 + n);
    }
  });

  it('within a session it is MAC-protected both ways and the session carries on', async () => {
    const card = VirtualNtag424.blank(UID);
    const t = channel(card);
    await selectNdefApplication(t);
    const session = await authenticateEv2First(t, 0, new Uint8Array(16));
    const answered = await getKeyVersion(t, 1, session);
    expect(answered.keyVersion).toBe(0);
    expect(answered.session?.cmdCtr).toBe(1);
    // The next secure command is accepted under the advanced counter.
    const settings = sunFileSettings(buildSunTemplate());
    await expect(changeFileSettings(t, answered.session!, 2, settings)).resolves.toMatchObject({
      cmdCtr: 2,
    });
    expect(card.fileSettings(2)?.sdm).not.toBeNull();
  });

  it('refuses an unMACed command within a session (ending it), an unknown key, and no application', async () => {
    const card = VirtualNtag424.blank(UID);
    const t = channel(card);
    expect(toHex(await t(fromHex('9064000001000000').subarray(0, 7)))).toBe('919D');
    await selectNdefApplication(t);
    expect(toHex(await t(fromHex('90640000010500')))).toBe('9140');
    expect(toHex(await t(fromHex('906400000000')))).toBe('917E');
    const session = await authenticateEv2First(t, 0, new Uint8Array(16));
    expect(toHex(await t(fromHex('90640000010100')))).toBe('917E');
    // The session is gone: a secure command under it finds none.
    const settings = sunFileSettings(buildSunTemplate());
    await expect(changeFileSettings(t, session, 2, settings)).rejects.toThrow(/919D/);
    expect(card.fileSettings(2)?.sdm).toBeNull();
  });
});
