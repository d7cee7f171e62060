import { describe, expect, it } from 'vitest';
import { loadKioskConfig } from './config.js';

const KEY = { version: 3, masterKeyHex: '0f'.repeat(16) };
const READ_KEYS = { current: { version: 2, masterKeyHex: 'a5'.repeat(16) }, previous: null };

describe('kiosk configuration: enrolment desks and issuing keys', () => {
  it('is not an enrolment desk and holds no issuing key by default', () => {
    const c = loadKioskConfig({});
    expect(c.enrolmentDesk).toBe(false);
    expect(c.issuingKey).toBeNull();
  });

  it('is an enrolment desk only with its issuing key', () => {
    const c = loadKioskConfig({
      overrides: { enrolmentDesk: true, issuingKey: KEY, readKeys: READ_KEYS },
    });
    expect(c.enrolmentDesk).toBe(true);
    expect(c.issuingKey).toEqual(KEY);
    expect(() => loadKioskConfig({ overrides: { enrolmentDesk: true } })).toThrow(
      /enrolmentDesk: an enrolment desk needs the issuing key/,
    );
  });

  it('needs the read keys on a PC/SC enrolment desk, to check the cards it personalises', () => {
    expect(() =>
      loadKioskConfig({ overrides: { enrolmentDesk: true, issuingKey: KEY, reader: 'pcsc' } }),
    ).toThrow(/readKeys: an enrolment desk with a PC\/SC reader needs the read keys/);
    // A desk with the simulated reader (demo) personalises nothing, so needs none.
    const demo = loadKioskConfig({
      overrides: { enrolmentDesk: true, issuingKey: KEY, reader: 'simulated' },
    });
    expect(demo.readKeys).toBeNull();
  });

  it('refuses issuing keys on a kiosk that is not an enrolment desk (an unattended kiosk)', () => {
    expect(() => loadKioskConfig({ overrides: { issuingKey: KEY } })).toThrow(
      /issuingKey: issuing keys belong on an enrolment desk only/,
    );
  });

  it('refuses a malformed issuing key', () => {
    expect(() =>
      loadKioskConfig({
        overrides: { enrolmentDesk: true, issuingKey: { version: 3, masterKeyHex: 'abc' } },
      }),
    ).toThrow(/issuingKey\.masterKeyHex/);
  });
});
