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

  it('refuses key version 0 (the factory one) for the keys an enrolment desk writes', () => {
    expect(() =>
      loadKioskConfig({
        overrides: { enrolmentDesk: true, issuingKey: { ...KEY, version: 0 }, readKeys: READ_KEYS },
      }),
    ).toThrow(/issuingKey\.version: an enrolment desk’s issuing key version must not be 0/);
    expect(() =>
      loadKioskConfig({
        overrides: {
          enrolmentDesk: true,
          issuingKey: KEY,
          readKeys: { current: { ...READ_KEYS.current, version: 0 }, previous: null },
        },
      }),
    ).toThrow(/readKeys\.current\.version: an enrolment desk’s current read-key version/);
    // An unattended kiosk may still read cards of read-key version 0.
    const kiosk = loadKioskConfig({
      overrides: { readKeys: { current: { ...READ_KEYS.current, version: 0 }, previous: null } },
    });
    expect(kiosk.readKeys?.current.version).toBe(0);
  });

  it('refuses a malformed issuing key', () => {
    expect(() =>
      loadKioskConfig({
        overrides: { enrolmentDesk: true, issuingKey: { version: 3, masterKeyHex: 'abc' } },
      }),
    ).toThrow(/issuingKey\.masterKeyHex/);
  });
});
