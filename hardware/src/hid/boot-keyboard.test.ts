import { describe, expect, it } from 'vitest';
import { fromHex } from '../pcsc/bytes.js';
import {
  BootKeyboardDecoder,
  IdentifierAssembler,
  parseBootKeyboardReport,
} from './boot-keyboard.js';

/** Boot reports as a wedge types `text` then Enter: key down, all keys up, per character. */
function typedReports(text: string): Uint8Array[] {
  const usage = (c: string): [number, number] => {
    if (/[a-z]/.test(c)) return [0, 0x04 + c.charCodeAt(0) - 0x61];
    if (/[A-Z]/.test(c)) return [0x02, 0x04 + c.charCodeAt(0) - 0x41];
    if (/[1-9]/.test(c)) return [0, 0x1e + Number(c) - 1];
    if (c === '0') return [0, 0x27];
    if (c === '-') return [0, 0x2d];
    if (c === '\n') return [0, 0x28];
    throw new Error(`no usage for ${c}`);
  };
  return [...text].flatMap((c) => {
    const [mod, key] = usage(c);
    return [Uint8Array.of(mod, 0, key, 0, 0, 0, 0, 0), new Uint8Array(8)];
  });
}

describe('boot keyboard reports (HID 1.11 Appendix B.1)', () => {
  it('splits modifiers and key codes, honouring a report id', () => {
    expect(parseBootKeyboardReport(fromHex('0200040000000000'))).toEqual({
      modifiers: 2,
      keys: [4],
    });
    expect(parseBootKeyboardReport(fromHex('010000001E00000000'), 1)).toEqual({
      modifiers: 0,
      keys: [0x1e],
    });
    expect(parseBootKeyboardReport(fromHex('020000001E00000000'), 1)).toBeUndefined();
    expect(parseBootKeyboardReport(fromHex('0000'))).toBeUndefined();
  });

  it('decodes digits, letters and shift; ignores held keys and key-up', () => {
    const d = new BootKeyboardDecoder();
    const chars = (hex: string): string =>
      d
        .push(fromHex(hex))
        .map((e) => (e.kind === 'char' ? e.char : e.kind === 'enter' ? '⏎' : '?'))
        .join('');
    expect(chars('00001E0000000000')).toBe('1');
    expect(chars('00001E0000000000')).toBe(''); // still held: typematic repeat
    expect(chars('00001E1F00000000')).toBe('2'); // rollover: only the new key counts
    expect(chars('0000000000000000')).toBe('');
    expect(chars('0200040000000000')).toBe('A');
    expect(chars('2000000000000000')).toBe(''); // right shift alone
    expect(chars('0000050000000000')).toBe('b');
    expect(chars('0200270000000000')).toBe(')');
    expect(chars('0000280000000000')).toBe('⏎');
    expect(chars('0000590000000000')).toBe('1'); // keypad 1
  });

  it('ignores ErrorRollOver reports without losing the held-key state', () => {
    const d = new BootKeyboardDecoder();
    expect(d.push(fromHex('0000040000000000'))).toHaveLength(1);
    expect(d.push(fromHex('0000010101010101'))).toEqual([]);
    expect(d.push(fromHex('0000040000000000'))).toEqual([]);
  });
});

describe('IdentifierAssembler', () => {
  it('completes an identifier on Enter, timed from its first key', () => {
    const a = new IdentifierAssembler();
    const out = typedReports('0004921356\n').flatMap((r, i) => a.push(r, 100 + i));
    expect(out).toEqual([{ identifier: '0004921356', firstKeyAt: 100 }]);
  });

  it('drops a partial identifier after a pause, and overlong input', () => {
    const a = new IdentifierAssembler({ idleResetMs: 500, maxLength: 8 });
    for (const r of typedReports('123')) a.push(r, 0);
    const out = typedReports('4567\n').flatMap((r) => a.push(r, 2000));
    expect(out.map((o) => o.identifier)).toEqual(['4567']);
    expect(typedReports('123456789\n').flatMap((r) => a.push(r, 3000))).toEqual([]);
    expect(
      typedReports('42\n')
        .flatMap((r) => a.push(r, 3001))
        .map((o) => o.identifier),
    ).toEqual(['42']);
  });

  it('ignores an Enter with nothing before it', () => {
    const a = new IdentifierAssembler();
    expect(typedReports('\n').flatMap((r) => a.push(r, 0))).toEqual([]);
  });
});
