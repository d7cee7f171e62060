/**
 * Decoding of HID boot-protocol keyboard reports, as 125 kHz keyboard-wedge fob readers
 * and barcode scanners send them (HID 1.11 Appendix B.1): byte 0 modifier bits, byte 1
 * reserved, bytes 2–7 up to six key codes currently pressed (Usage Page 07h, HID Usage
 * Tables 1.12 §10). A report states which keys are down *now*: a key press is a code
 * that was not in the previous report; a code that stays is the key held (typematic
 * repeat is the host's business, so it never adds a character); an all-zero report is
 * every key released.
 */

const LEFT_SHIFT = 0x02;
const RIGHT_SHIFT = 0x20;
/** ErrorRollOver: too many keys down; the report carries no key state (Usage 01h). */
const ERROR_ROLL_OVER = 0x01;

export const KEY_ENTER = 0x28;
export const KEY_KEYPAD_ENTER = 0x58;
export const KEY_TAB = 0x2b;

/** US layout: unshifted and shifted characters per usage (HID Usage Tables §10, Table 12). */
const KEYMAP = new Map<number, [string, string]>();
for (let i = 0; i < 26; i++) {
  const c = String.fromCharCode(0x61 + i);
  KEYMAP.set(0x04 + i, [c, c.toUpperCase()]);
}
'1234567890'.split('').forEach((d, i) => KEYMAP.set(0x1e + i, [d, '!@#$%^&*()'[i] ?? d]));
const PUNCTUATION: Array<[number, string, string]> = [
  [0x2c, ' ', ' '],
  [0x2d, '-', '_'],
  [0x2e, '=', '+'],
  [0x2f, '[', '{'],
  [0x30, ']', '}'],
  [0x31, '\\', '|'],
  [0x33, ';', ':'],
  [0x34, "'", '"'],
  [0x35, '`', '~'],
  [0x36, ',', '<'],
  [0x37, '.', '>'],
  [0x38, '/', '?'],
  [0x54, '/', '/'],
  [0x55, '*', '*'],
  [0x56, '-', '-'],
  [0x57, '+', '+'],
  [0x63, '.', '.'],
];
for (const [usage, plain, shifted] of PUNCTUATION) KEYMAP.set(usage, [plain, shifted]);
// Keypad digits 1–9, 0 (NumLock assumed on: wedges that use the keypad expect it).
'1234567890'.split('').forEach((d, i) => KEYMAP.set(0x59 + i, [d, d]));

export interface BootKeyboardReport {
  modifiers: number;
  /** Key codes pressed, without zero slots. */
  keys: number[];
}

/**
 * Splits a raw input report into modifiers and key codes. `reportId` is for devices that
 * number their reports (then byte 0 is the id and the boot layout follows).
 */
export function parseBootKeyboardReport(
  data: Uint8Array,
  reportId?: number,
): BootKeyboardReport | undefined {
  let bytes = data;
  if (reportId !== undefined) {
    if (data[0] !== reportId) return undefined;
    bytes = data.subarray(1);
  }
  if (bytes.length < 3) return undefined;
  const keys = [...bytes.subarray(2, 8)].filter((k) => k !== 0);
  return { modifiers: bytes[0] ?? 0, keys };
}

export type KeyboardEvent =
  { kind: 'char'; char: string } | { kind: 'enter' } | { kind: 'other'; usage: number };

/** Turns a stream of reports into key presses: new codes only, shift applied. */
export class BootKeyboardDecoder {
  #down = new Set<number>();

  constructor(private readonly options: { reportId?: number; tabEnds?: boolean } = {}) {}

  push(data: Uint8Array): KeyboardEvent[] {
    const report = parseBootKeyboardReport(data, this.options.reportId);
    if (!report) return [];
    if (report.keys.length > 0 && report.keys.every((k) => k === ERROR_ROLL_OVER)) return [];
    const shift = (report.modifiers & (LEFT_SHIFT | RIGHT_SHIFT)) !== 0;
    const events: KeyboardEvent[] = [];
    for (const usage of report.keys) {
      if (this.#down.has(usage)) continue; // held or repeated, not a new press
      if (usage === KEY_ENTER || usage === KEY_KEYPAD_ENTER) events.push({ kind: 'enter' });
      else if (usage === KEY_TAB && this.options.tabEnds) events.push({ kind: 'enter' });
      else {
        const chars = KEYMAP.get(usage);
        events.push(
          chars ? { kind: 'char', char: chars[shift ? 1 : 0] } : { kind: 'other', usage },
        );
      }
    }
    this.#down = new Set(report.keys);
    return events;
  }

  reset(): void {
    this.#down.clear();
  }
}

export interface IdentifierAssemblerOptions {
  /** Longest identifier kept (longer input is dropped as noise). Default 64. */
  maxLength?: number;
  /** A pause this long between keys discards a partial identifier. Default 1000 ms. */
  idleResetMs?: number;
  reportId?: number;
  /** Treat Tab as the end of an identifier (some wedges are configured so). */
  tabEnds?: boolean;
}

/**
 * Collects key presses into identifiers: Enter ends one. Wedge readers type a whole
 * identifier within tens of milliseconds, so a long pause means a partial read (or a
 * stray key) and the buffer is dropped rather than glued to the next card.
 */
export class IdentifierAssembler {
  readonly #decoder: BootKeyboardDecoder;
  readonly #maxLength: number;
  readonly #idleResetMs: number;
  #buffer = '';
  #firstKeyAt: number | undefined;
  #lastKeyAt = 0;
  #overflow = false;

  constructor(options: IdentifierAssemblerOptions = {}) {
    this.#decoder = new BootKeyboardDecoder({
      ...(options.reportId !== undefined ? { reportId: options.reportId } : {}),
      ...(options.tabEnds !== undefined ? { tabEnds: options.tabEnds } : {}),
    });
    this.#maxLength = options.maxLength ?? 64;
    this.#idleResetMs = options.idleResetMs ?? 1000;
  }

  /**
   * Feeds one report received at `now` (performance.now()); returns the identifiers it
   * completed, each with the time its first key arrived.
   */
  push(data: Uint8Array, now: number): Array<{ identifier: string; firstKeyAt: number }> {
    const done: Array<{ identifier: string; firstKeyAt: number }> = [];
    const events = this.#decoder.push(data);
    if (events.length > 0 && this.#buffer && now - this.#lastKeyAt > this.#idleResetMs) {
      this.#clear();
    }
    for (const event of events) {
      this.#lastKeyAt = now;
      if (event.kind === 'enter') {
        if (this.#buffer && !this.#overflow && this.#firstKeyAt !== undefined) {
          done.push({ identifier: this.#buffer, firstKeyAt: this.#firstKeyAt });
        }
        this.#clear();
      } else if (event.kind === 'char') {
        this.#firstKeyAt ??= now;
        if (this.#buffer.length >= this.#maxLength) this.#overflow = true;
        else this.#buffer += event.char;
      }
    }
    return done;
  }

  #clear(): void {
    this.#buffer = '';
    this.#firstKeyAt = undefined;
    this.#overflow = false;
  }
}
