import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from './bytes.js';
import type { Ev2Session } from './ev2.js';
import {
  buildSecureCommand,
  buildSecureResponse,
  commandIv,
  openSecureCommand,
  openSecureResponse,
  padIso9797M2,
  unpadIso9797M2,
  unwrapNativeCommand,
  wrapNativeCommand,
} from './ev2-messaging.js';
import { h, loadNtag424Vectors } from './test-vectors.js';

function session(ti: string, enc: string, mac: string, cmdCtr = 0, keyNo = 0): Ev2Session {
  return { keyNo, ti: h(ti), sesAuthEncKey: h(enc), sesAuthMacKey: h(mac), cmdCtr };
}

/** The session AN12196 §6.6 opens (the fixture's AuthenticateEV2First vector). */
function an12196Session(cmdCtr: number): Ev2Session {
  const v = loadNtag424Vectors().authenticate_ev2_first[0];
  if (!v) throw new Error('fixture has no EV2 vector');
  return session(v.transaction_identifier, v.k_ses_auth_enc, v.k_ses_auth_mac, cmdCtr);
}

describe('secure messaging against AN12196', () => {
  // AN12196 Table 28: GetCardUID — a Full-mode command without data (MAC only), and an
  // encrypted response checked under CmdCtr + 1.
  const getCardUid = session(
    'DF055522',
    '2B4D963C014DC36F24F69A50A394F875',
    '379D32130CE61705DD5FD8C36B95D764',
  );

  it('builds the GetCardUID command (Table 28)', () => {
    const command = buildSecureCommand(getCardUid, { ins: 0x51, mode: 'full' });
    expect(bytesToHex(command.apdu)).toBe('90510000088E2C155ADDA99BE300');
  });

  it('opens the GetCardUID response: MAC, 5AA5 IV, padding (Table 28)', () => {
    const response = openSecureResponse(getCardUid, {
      body: h('70756055688505B52A5E26E59E329CD6595F672298EA41B7'),
      mode: 'full',
    });
    if (!response.ok) throw new Error(response.message);
    expect(bytesToHex(response.data)).toBe('04958CAA5C5E80');
    expect(response.session.cmdCtr).toBe(1);
  });

  it('derives the command IV from A55A ‖ TI ‖ CmdCtr (Table 18, CmdCtr 1)', () => {
    expect(bytesToHex(commandIv(an12196Session(1)))).toBe('3E27082AB2ACC1EF55C57547934E9962');
  });

  it('the card side opens what AN12196 sent and answers what AN12196 received', () => {
    const s = session(
      'DF055522',
      '2B4D963C014DC36F24F69A50A394F875',
      '379D32130CE61705DD5FD8C36B95D764',
    );
    const command = unwrapNativeCommand(h('90510000088E2C155ADDA99BE300'));
    if (!command) throw new Error('not a native command');
    const opened = openSecureCommand(s, {
      ...command,
      body: command.data,
      headerLength: 0,
      mode: 'full',
    });
    expect(opened).toMatchObject({ ok: true });
    const response = buildSecureResponse(s, { data: h('04958CAA5C5E80'), mode: 'full' });
    expect(bytesToHex(response.body)).toBe('70756055688505B52A5E26E59E329CD6595F672298EA41B7');
    expect(response.session.cmdCtr).toBe(1);
  });
});

describe('secure messaging, PCD ↔ PICC', () => {
  const base: Ev2Session = {
    keyNo: 0,
    ti: randomBytes(4),
    sesAuthEncKey: randomBytes(16),
    sesAuthMacKey: randomBytes(16),
    cmdCtr: 5,
  };

  for (const mode of ['full', 'mac'] as const) {
    it(`a ${mode} command built by the reader is accepted by the card, and back`, () => {
      const data = randomBytes(21);
      const command = buildSecureCommand(base, { ins: 0x8d, header: h('02000000'), data, mode });
      const opened = openSecureCommand(base, {
        ins: 0x8d,
        body: command.body,
        headerLength: 4,
        mode,
      });
      if (!opened.ok) throw new Error(opened.message);
      expect(opened.header).toEqual(h('02000000'));
      expect(opened.data).toEqual(data);
      if (mode === 'full') expect(command.body.includes(data)).toBe(false);

      const answer = randomBytes(16);
      const response = buildSecureResponse(base, { data: answer, mode });
      const back = openSecureResponse(base, { body: response.body, mode });
      if (!back.ok) throw new Error(back.message);
      expect(back.data).toEqual(answer);
      expect(back.session.cmdCtr).toBe(6);
      expect(response.session.cmdCtr).toBe(6);
    });
  }

  it('the card refuses a tampered command, a wrong counter, and another session', () => {
    const command = buildSecureCommand(base, {
      ins: 0xc4,
      header: h('01'),
      data: randomBytes(21),
      mode: 'full',
    });
    const open = (s: Ev2Session, body: Buffer) =>
      openSecureCommand(s, { ins: 0xc4, body, headerLength: 1, mode: 'full' });
    for (const i of [0, 5, command.body.length - 1]) {
      const tampered = Buffer.from(command.body);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      expect(open(base, tampered)).toMatchObject({ ok: false, reason: 'bad-mac' });
    }
    expect(open({ ...base, cmdCtr: 6 }, command.body)).toMatchObject({
      ok: false,
      reason: 'bad-mac',
    });
    expect(open({ ...base, sesAuthMacKey: randomBytes(16) }, command.body)).toMatchObject({
      ok: false,
      reason: 'bad-mac',
    });
    expect(
      openSecureCommand(base, { ins: 0x5f, body: command.body, headerLength: 1, mode: 'full' }),
    ).toMatchObject({ ok: false, reason: 'bad-mac' });
    expect(open(base, command.body.subarray(0, 5))).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
  });

  it('the reader refuses a tampered response or one from the wrong counter', () => {
    const response = buildSecureResponse(base, { data: randomBytes(7), mode: 'full' });
    const tampered = Buffer.from(response.body);
    tampered[0] = (tampered[0] ?? 0) ^ 0x80;
    expect(openSecureResponse(base, { body: tampered, mode: 'full' })).toMatchObject({
      ok: false,
      reason: 'bad-mac',
    });
    expect(
      openSecureResponse({ ...base, cmdCtr: 4 }, { body: response.body, mode: 'full' }),
    ).toMatchObject({
      ok: false,
      reason: 'bad-mac',
    });
    // An error status is covered by the MAC too.
    expect(openSecureResponse(base, { body: response.body, rc: 0x9d, mode: 'full' }).ok).toBe(
      false,
    );
  });

  it('refuses to run past the end of the 16-bit command counter', () => {
    expect(() =>
      buildSecureCommand({ ...base, cmdCtr: 0xffff }, { ins: 0x51, mode: 'full' }),
    ).toThrow(/authenticate again/);
    expect(
      openSecureResponse({ ...base, cmdCtr: 0xffff }, { body: Buffer.alloc(8), mode: 'mac' }),
    ).toMatchObject({
      ok: false,
      reason: 'counter-exhausted',
    });
  });
});

describe('padding and APDU framing', () => {
  it('always pads (a whole block when aligned) and unpads', () => {
    expect(padIso9797M2(h('01'))).toEqual(h('01800000000000000000000000000000'));
    expect(padIso9797M2(Buffer.alloc(16))).toHaveLength(32);
    expect(unpadIso9797M2(padIso9797M2(h('0102')))).toEqual(h('0102'));
    expect(unpadIso9797M2(Buffer.alloc(16))).toBeNull();
    expect(unpadIso9797M2(h('01020304050607080910111213141501'))).toBeNull();
  });

  it('wraps and unwraps native commands', () => {
    expect(wrapNativeCommand(0x51)).toEqual(h('9051000000'));
    expect(wrapNativeCommand(0x71, h('0000'))).toEqual(h('9071000002000000'));
    expect(unwrapNativeCommand(h('9071000002000000'))).toEqual({ ins: 0x71, data: h('0000') });
    expect(unwrapNativeCommand(h('90710000020000'))).toEqual({ ins: 0x71, data: h('0000') });
    expect(unwrapNativeCommand(h('9051000000'))).toEqual({ ins: 0x51, data: Buffer.alloc(0) });
    expect(unwrapNativeCommand(h('00A4040007'))).toBeNull();
    expect(unwrapNativeCommand(h('907100000500'))).toBeNull();
  });
});
