import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from './bytes.js';
import {
  ev2FirstCommandData,
  ev2FirstPcdAnswer,
  ev2FirstPcdFinish,
  ev2FirstPiccChallenge,
  ev2FirstPiccFinish,
  ev2SessionKeys,
  rotateLeft1,
} from './ev2.js';
import { h, loadNtag424Vectors } from './test-vectors.js';

const vectors = loadNtag424Vectors();

describe('AuthenticateEV2First against AN12196 §6.6', () => {
  it.each(vectors.authenticate_ev2_first)('PCD side: $source', (v) => {
    const answer = ev2FirstPcdAnswer(h(v.key), 0, h(v.card_response_1_encrypted_rnd_b), {
      rndA: h(v.rnd_a),
    });
    if (!answer.ok) throw new Error(answer.message);
    expect(bytesToHex(answer.pending.rndB)).toBe(v.rnd_b.toUpperCase());
    expect(bytesToHex(answer.data)).toBe(v.pcd_part_2_data.toUpperCase());

    const done = ev2FirstPcdFinish(h(v.key), answer.pending, h(v.card_response_2_encrypted));
    if (!done.ok) throw new Error(done.message);
    expect(bytesToHex(done.session.ti)).toBe(v.transaction_identifier.toUpperCase());
    expect(bytesToHex(done.session.sesAuthEncKey)).toBe(v.k_ses_auth_enc.toUpperCase());
    expect(bytesToHex(done.session.sesAuthMacKey)).toBe(v.k_ses_auth_mac.toUpperCase());
    expect(done.session.cmdCtr).toBe(0);
  });

  it.each(vectors.authenticate_ev2_first)('PICC side: $source', (v) => {
    const challenge = ev2FirstPiccChallenge(h(v.key), { rndB: h(v.rnd_b) });
    expect(bytesToHex(challenge.data)).toBe(v.card_response_1_encrypted_rnd_b.toUpperCase());

    // NTAG 424 DNA answers PDcap2 and PCDcap2 as zeros in this example.
    const done = ev2FirstPiccFinish(h(v.key), 0, challenge.rndB, h(v.pcd_part_2_data), {
      ti: h(v.transaction_identifier),
    });
    if (!done.ok) throw new Error(done.message);
    expect(bytesToHex(done.rndA)).toBe(v.rnd_a.toUpperCase());
    expect(bytesToHex(done.data)).toBe(v.card_response_2_encrypted.toUpperCase());
    expect(bytesToHex(done.session.sesAuthEncKey)).toBe(v.k_ses_auth_enc.toUpperCase());
    expect(bytesToHex(done.session.sesAuthMacKey)).toBe(v.k_ses_auth_mac.toUpperCase());
  });

  it.each(vectors.authenticate_ev2_first)('session keys alone: $source', (v) => {
    const keys = ev2SessionKeys(h(v.key), h(v.rnd_a), h(v.rnd_b));
    expect(bytesToHex(keys.sesAuthEncKey)).toBe(v.k_ses_auth_enc.toUpperCase());
    expect(bytesToHex(keys.sesAuthMacKey)).toBe(v.k_ses_auth_mac.toUpperCase());
  });
});

describe('AuthenticateEV2First handshake, PCD ↔ PICC', () => {
  const key = randomBytes(16);

  function handshake(pcdKey: Buffer, piccKey: Buffer) {
    const challenge = ev2FirstPiccChallenge(piccKey);
    const answer = ev2FirstPcdAnswer(pcdKey, 3, challenge.data);
    if (!answer.ok) throw new Error(answer.message);
    const picc = ev2FirstPiccFinish(piccKey, 3, challenge.rndB, answer.data);
    return { answer, picc };
  }

  it('gives both sides the same session', () => {
    const { answer, picc } = handshake(key, key);
    if (!picc.ok) throw new Error(picc.message);
    const pcd = ev2FirstPcdFinish(key, answer.pending, picc.data);
    if (!pcd.ok) throw new Error(pcd.message);
    expect(pcd.session).toEqual(picc.session);
    expect(pcd.session.keyNo).toBe(3);
  });

  it('the card refuses a reader with the wrong key', () => {
    const { picc } = handshake(randomBytes(16), key);
    expect(picc).toMatchObject({ ok: false, reason: 'authentication-failed' });
  });

  it('the reader refuses a card with the wrong key (a cloned UID without keys)', () => {
    const challenge = ev2FirstPiccChallenge(key);
    const answer = ev2FirstPcdAnswer(key, 0, challenge.data);
    if (!answer.ok) throw new Error(answer.message);
    const impostor = randomBytes(16);
    const forged = ev2FirstPiccFinish(impostor, 0, challenge.rndB, answer.data);
    expect(forged.ok).toBe(false);
    // Even replaying the genuine card's bytes from another session fails: RndA differs.
    const genuine = ev2FirstPiccFinish(key, 0, challenge.rndB, answer.data);
    if (!genuine.ok) throw new Error(genuine.message);
    const other = ev2FirstPcdAnswer(key, 0, challenge.data);
    if (!other.ok) throw new Error(other.message);
    expect(ev2FirstPcdFinish(key, other.pending, genuine.data)).toMatchObject({
      ok: false,
      reason: 'authentication-failed',
    });
  });

  it('reports wrong lengths as results', () => {
    expect(ev2FirstPcdAnswer(key, 0, Buffer.alloc(8))).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
    const answer = ev2FirstPcdAnswer(key, 0, Buffer.alloc(16));
    if (!answer.ok) throw new Error(answer.message);
    expect(ev2FirstPcdFinish(key, answer.pending, Buffer.alloc(31))).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
    expect(ev2FirstPiccFinish(key, 0, Buffer.alloc(16), Buffer.alloc(16))).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
  });
});

describe('EV2 helpers', () => {
  it('rotates left by one byte', () => {
    expect(rotateLeft1(h('0102030405'))).toEqual(h('0203040501'));
  });

  it('builds the first command data: KeyNo ‖ LenCap ‖ PCDcap2', () => {
    expect(ev2FirstCommandData(0)).toEqual(h('0000'));
    expect(ev2FirstCommandData(2, h('01'))).toEqual(h('020101'));
    expect(() => ev2FirstCommandData(14)).toThrow(RangeError);
  });
});
