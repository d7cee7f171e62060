import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bytesToHex, formatUrlCounter, generateSun } from '@clubcard/shared';
import { loadNtag424Vectors } from '@clubcard/shared/card/test-vectors';
import { afterEach, describe, expect, it } from 'vitest';
import { runClubcard } from './test-cli.js';

const vectors = loadNtag424Vectors();
const ZERO = '00'.repeat(16);
const BIN = fileURLToPath(new URL('../../bin/clubcard.mjs', import.meta.url));

afterEach(() => {
  // main() reports "not valid" through process.exitCode; keep it out of the test runner.
  process.exitCode = undefined;
});

describe('clubcard card sun-verify', () => {
  it.each(vectors.sun)('verifies the fixture vector: $source', async (v) => {
    const run = await runClubcard(
      'card',
      'sun-verify',
      '--file-key',
      v.k_sdm_file_read,
      '--meta-key',
      v.k_sdm_meta_read,
      '--picc',
      v.picc_enc_data,
      '--cmac',
      v.sdm_mac,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      valid: true,
      uid: v.expect.uid.toUpperCase(),
      counter: v.expect.read_counter,
    });
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('exits 1 with valid:false for a tampered cmac', async () => {
    const v = vectors.sun[0];
    if (!v) throw new Error('fixture has no SUN vector');
    const tampered = (v.sdm_mac.startsWith('0') ? '1' : '0') + v.sdm_mac.slice(1);
    const run = await runClubcard(
      'card',
      'sun-verify',
      '--file-key',
      v.k_sdm_file_read,
      '--meta-key',
      v.k_sdm_meta_read,
      '--picc',
      v.picc_enc_data,
      '--cmac',
      tampered,
    );
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ valid: false });
    expect(run.stderr).toMatch(/not valid \(bad-mac\)/);
    // The negative answer does not stick to the next run.
    const again = await runClubcard(
      'card',
      'sun-verify',
      '--file-key',
      v.k_sdm_file_read,
      '--meta-key',
      v.k_sdm_meta_read,
      '--picc',
      v.picc_enc_data,
      '--cmac',
      v.sdm_mac,
    );
    expect(again.code).toBe(0);
  });

  it('decrypts file data (AN12196 example with SDMENCFileData)', async () => {
    const enc = 'CEE9A53E3E463EF1F459635736738962';
    const run = await runClubcard(
      'card',
      'sun-verify',
      '--file-key',
      ZERO,
      '--meta-key',
      ZERO,
      '--picc',
      'FD91EC264309878BE6345CBE53BADF40',
      '--cmac',
      'ECC1E7F6C6C73BF6',
      '--enc',
      enc,
      '--mac-input',
      `${enc}&cmac=`,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      valid: true,
      uid: '04958CAA5C5E80',
      counter: 8,
      fileData: 'xxxxxxxxxxxxxxxx',
    });
  });

  it('verifies a plain mirror made by our own generator, counter as in the URL', async () => {
    const fileKey = randomBytes(16);
    const uid = Buffer.from('04C767F2066180', 'hex');
    const counter = 0x01a2b3;
    const macInput = 'https://card.example/t?uid=04C767F2066180&ctr=01A2B3&cmac=';
    const sun = generateSun({
      fileReadKey: fileKey,
      uid,
      counter,
      macInput: Buffer.from(macInput),
    });
    const args = [
      'card',
      'sun-verify',
      '--file-key',
      bytesToHex(fileKey),
      '--uid',
      bytesToHex(uid),
      '--counter',
      formatUrlCounter(counter),
      '--cmac',
      bytesToHex(sun.cmac),
    ];
    expect(formatUrlCounter(counter)).toBe('01A2B3');
    const run = await runClubcard(...args, '--mac-input', macInput);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ valid: true, uid: '04C767F2066180', counter });
    // The MAC input is empty unless given: without it, the same MAC does not verify.
    const without = await runClubcard(...args);
    expect(without.code).toBe(1);
    expect(JSON.parse(without.stdout)).toEqual({ valid: false, uid: '04C767F2066180', counter });
  });

  it.each([
    {
      why: 'bad hex',
      args: [
        '--file-key',
        'zz'.repeat(16),
        '--uid',
        '04C767F2066180',
        '--counter',
        '000001',
        '--cmac',
        '00'.repeat(8),
      ],
      message: /--file-key must be hex/,
    },
    {
      why: 'a short key',
      args: [
        '--file-key',
        '00'.repeat(15),
        '--uid',
        '04C767F2066180',
        '--counter',
        '000001',
        '--cmac',
        '00'.repeat(8),
      ],
      message: /--file-key must be 16 bytes/,
    },
    {
      why: 'a long cmac',
      args: [
        '--file-key',
        ZERO,
        '--uid',
        '04C767F2066180',
        '--counter',
        '000001',
        '--cmac',
        '00'.repeat(16),
      ],
      message: /--cmac must be 8 bytes/,
    },
    {
      why: 'a counter that is not 6 hex digits',
      args: [
        '--file-key',
        ZERO,
        '--uid',
        '04C767F2066180',
        '--counter',
        '1',
        '--cmac',
        '00'.repeat(8),
      ],
      message: /--counter must be exactly 6 hex digits/,
    },
    {
      why: 'a 4-byte UID',
      args: [
        '--file-key',
        ZERO,
        '--uid',
        '04C767F2',
        '--counter',
        '000001',
        '--cmac',
        '00'.repeat(8),
      ],
      message: /--uid must be 7 bytes/,
    },
    {
      why: 'both forms at once',
      args: [
        '--file-key',
        ZERO,
        '--picc',
        ZERO,
        '--meta-key',
        ZERO,
        '--uid',
        '04C767F2066180',
        '--cmac',
        '00'.repeat(8),
      ],
      message: /not both/,
    },
    {
      why: 'neither form',
      args: ['--file-key', ZERO, '--cmac', '00'.repeat(8)],
      message: /give either/,
    },
    {
      why: '--picc without --meta-key',
      args: ['--file-key', ZERO, '--picc', ZERO, '--cmac', '00'.repeat(8)],
      message: /--picc needs --meta-key/,
    },
    {
      why: '--uid without --counter',
      args: ['--file-key', ZERO, '--uid', '04C767F2066180', '--cmac', '00'.repeat(8)],
      message: /--uid and --counter go together/,
    },
    {
      why: 'file data that is not whole blocks',
      args: [
        '--file-key',
        ZERO,
        '--uid',
        '04C767F2066180',
        '--counter',
        '000001',
        '--cmac',
        '00'.repeat(8),
        '--enc',
        '00'.repeat(15),
      ],
      message: /--enc must be whole 16-byte blocks/,
    },
    {
      why: 'a missing required option',
      args: ['--uid', '04C767F2066180', '--counter', '000001', '--cmac', '00'.repeat(8)],
      message: /--file-key/,
    },
  ])('exits 2 with a message for $why', async ({ args, message }) => {
    const run = await runClubcard('card', 'sun-verify', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });
});

describe('clubcard card diversify', () => {
  it.each(vectors.key_diversification_an10922_aes128)(
    'prints the fixture key: $source',
    async (v) => {
      const run = await runClubcard(
        'card',
        'diversify',
        '--master',
        v.master_key,
        '--uid',
        v.uid,
        '--aid',
        v.aid,
        '--system-id',
        v.system_identifier_ascii,
      );
      expect(run).toEqual({ code: 0, stdout: `${v.diversified_key.toUpperCase()}\n`, stderr: '' });
    },
  );

  it('diversifies with the UID alone (AN10922 padded branch)', async () => {
    const run = await runClubcard(
      'card',
      'diversify',
      '--master',
      '00112233445566778899AABBCCDDEEFF',
      '--uid',
      '04782E21801D80',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[0-9A-F]{32}\n$/);
  });

  it.each([
    {
      why: 'bad hex',
      args: ['--master', 'xyz', '--uid', '04782E21801D80'],
      message: /--master must be hex/,
    },
    {
      why: 'a short master',
      args: ['--master', '0011', '--uid', '04782E21801D80'],
      message: /--master must be 16 bytes/,
    },
    {
      why: 'an odd UID size',
      args: ['--master', ZERO, '--uid', '0478'],
      message: /--uid must be 4, 7 or 10 bytes/,
    },
    {
      why: 'a long AID',
      args: ['--master', ZERO, '--uid', '04782E21801D80', '--aid', '3042F500'],
      message: /--aid must be 3 bytes/,
    },
    {
      why: 'too much input for AN10922',
      args: ['--master', ZERO, '--uid', '04782E21801D80', '--system-id', 'x'.repeat(30)],
      message: /at most 31/,
    },
  ])('exits 2 with a message for $why', async ({ args, message }) => {
    const run = await runClubcard('card', 'diversify', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });
});

describe('the clubcard binary', () => {
  const exec = promisify(execFile);

  it('runs sun-verify end to end with the documented exit codes', async () => {
    const v = vectors.sun[0];
    if (!v) throw new Error('fixture has no SUN vector');
    const args = [
      BIN,
      'card',
      'sun-verify',
      '--file-key',
      v.k_sdm_file_read,
      '--meta-key',
      v.k_sdm_meta_read,
      '--picc',
      v.picc_enc_data,
    ];
    const ok = await exec(process.execPath, [...args, '--cmac', v.sdm_mac]);
    expect(JSON.parse(ok.stdout)).toEqual({
      valid: true,
      uid: v.expect.uid.toUpperCase(),
      counter: v.expect.read_counter,
    });
    await expect(exec(process.execPath, [...args, '--cmac', '00'.repeat(8)])).rejects.toMatchObject(
      { code: 1 },
    );
    await expect(exec(process.execPath, [...args, '--cmac', 'nothex'])).rejects.toMatchObject({
      code: 2,
    });
  }, 90_000); // spawns real CLI processes: slow on a loaded 2-core machine
});
