import { describe, expect, it } from 'vitest';
import { firstUri } from './ndef.js';
import { buildSunTemplate, DEFAULT_SUN_URL_LAYOUT, parseSunUrl } from './sun-url.js';

const PICC = 'EF963FF7828658A599F3041510671E88';
const ENC = 'CEE9A53E3E463EF1F459635736738962';
const MAC = '94EED9EE65337086';
const BASE = 'https://card.example.council/t';

describe('parseSunUrl', () => {
  it('reads encrypted PICCData and the MAC; macInput runs from picc_data to &cmac=', () => {
    expect(parseSunUrl(`${BASE}?picc_data=${PICC}&cmac=${MAC}`)).toEqual({
      kind: 'sun',
      piccData: PICC,
      cmac: MAC,
      macInput: `${PICC}&cmac=`,
    });
  });

  it('includes encrypted file data in the proof and in the MAC input', () => {
    const proof = parseSunUrl(`${BASE}?picc_data=${PICC.toLowerCase()}&enc=${ENC}&cmac=${MAC}`);
    expect(proof).toEqual({
      kind: 'sun',
      piccData: PICC,
      encFileData: ENC,
      cmac: MAC,
      // As the card sent it (lower case here): the MAC covers the exact ASCII.
      macInput: `${PICC.toLowerCase()}&enc=${ENC}&cmac=`,
    });
  });

  it('gives an empty MAC input for SDMMACInputOffset = SDMMACOffset layouts (AN12196 §3.4.4)', () => {
    const layout = { ...DEFAULT_SUN_URL_LAYOUT, macInputFrom: 'none' as const };
    expect(parseSunUrl(`${BASE}?picc_data=${PICC}&cmac=${MAC}`, layout)?.macInput).toBe('');
  });

  it('reads the plain mirror: UID and counter (MSB first)', () => {
    expect(parseSunUrl(`${BASE}?uid=04DE5F1EACC040&ctr=00003D&cmac=${MAC}`)).toEqual({
      kind: 'sun',
      uid: '04DE5F1EACC040',
      counter: 61,
      cmac: MAC,
      macInput: `04DE5F1EACC040&ctr=00003D&cmac=`,
    });
  });

  it('reads each layout by its own parameter names, also one changed in place', () => {
    const layout = { ...DEFAULT_SUN_URL_LAYOUT, piccDataParam: 'p', cmacParam: 'm' };
    const url = `${BASE}?p=${PICC}&m=${MAC}`;
    expect(parseSunUrl(url, layout)).toMatchObject({ piccData: PICC, cmac: MAC });
    // The default layout's names are not this layout's, nor the other way round.
    expect(parseSunUrl(url)).toBeUndefined();
    expect(parseSunUrl(`${BASE}?picc_data=${PICC}&cmac=${MAC}`, layout)).toBeUndefined();
    layout.piccDataParam = 'e';
    expect(parseSunUrl(url, layout)).toBeUndefined();
    expect(parseSunUrl(`${BASE}?e=${PICC}&m=${MAC}`, layout)).toMatchObject({ piccData: PICC });
    // The default layout still reads as before.
    expect(parseSunUrl(`${BASE}?picc_data=${PICC}&cmac=${MAC}`)?.kind).toBe('sun');
  });

  it('allows fixed parameters before the mirrors', () => {
    const proof = parseSunUrl(`${BASE}?v=2&picc_data=${PICC}&cmac=${MAC}`);
    expect(proof?.macInput).toBe(`${PICC}&cmac=`);
  });

  it('returns undefined for URLs without a (well-formed) SUN message', () => {
    expect(parseSunUrl(BASE)).toBeUndefined();
    expect(parseSunUrl(`${BASE}?picc_data=${PICC}`)).toBeUndefined();
    expect(parseSunUrl(`${BASE}?picc_data=${PICC.slice(2)}&cmac=${MAC}`)).toBeUndefined();
    expect(parseSunUrl(`${BASE}?picc_data=${PICC}&cmac=${MAC}&x=1`)).toBeUndefined();
    expect(parseSunUrl(`${BASE}?picc_data=${PICC}&enc=ABC&cmac=${MAC}`)).toBeUndefined();
  });
});

describe('buildSunTemplate', () => {
  it('places offsets on the placeholders of the stored URL', () => {
    const t = buildSunTemplate(DEFAULT_SUN_URL_LAYOUT, {
      encFileData: new Uint8Array(16).fill(0x41),
    });
    const text = new TextDecoder('latin1').decode(t.ndefFile);
    const o = t.offsets;
    expect(text.slice((o.piccDataOffset ?? 0) - 10, o.piccDataOffset)).toBe('picc_data=');
    expect(text.slice((o.encOffset ?? 0) - 4, o.encOffset)).toBe('enc=');
    expect(o.encLength).toBe(32);
    // The plain data sits at SDMENCOffset: the first SDMENCLength/2 bytes get encrypted.
    expect(text.slice(o.encOffset, (o.encOffset ?? 0) + 16)).toBe('A'.repeat(16));
    expect(text.slice(o.macOffset - 5, o.macOffset)).toBe('cmac=');
    expect(o.macInputOffset).toBe(o.piccDataOffset);
    expect(o.macOffset + 16).toBe(t.ndefFile.length);
    expect(firstUri(t.ndefFile.slice(2))).toContain('card.example.council/t?picc_data=');
  });

  it('describes the plain mirror and the empty-input layout', () => {
    const plain = buildSunTemplate(DEFAULT_SUN_URL_LAYOUT, { mirror: 'plain' });
    expect(plain.offsets.uidOffset).toBeDefined();
    expect(plain.offsets.readCtrOffset).toBe((plain.offsets.uidOffset ?? 0) + 14 + 5);
    expect(plain.offsets.piccDataOffset).toBeUndefined();
    const none = buildSunTemplate({ ...DEFAULT_SUN_URL_LAYOUT, macInputFrom: 'none' });
    expect(none.offsets.macInputOffset).toBe(none.offsets.macOffset);
  });

  it('refuses file data that is not whole AES blocks', () => {
    expect(() =>
      buildSunTemplate(DEFAULT_SUN_URL_LAYOUT, { encFileData: new Uint8Array(10) }),
    ).toThrow(RangeError);
  });
});
