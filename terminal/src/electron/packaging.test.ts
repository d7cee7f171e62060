import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Configuration } from 'electron-builder';
// electron-builder's own check: its shipped JSON schema (app-builder-lib/scheme.json).
import { validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { KIOSK_FUSES } from './fuses.js';

const PACKAGING = fileURLToPath(new URL('../../packaging/', import.meta.url));
const config = JSON.parse(
  readFileSync(join(PACKAGING, 'electron-builder.json'), 'utf8'),
) as Configuration;
const quiet = { isEnabled: false, add: () => undefined } as unknown as Parameters<
  typeof validateConfiguration
>[1];

describe('electron-builder configuration', () => {
  it('is valid against electron-builder’s schema', async () => {
    await expect(validateConfiguration(config, quiet)).resolves.toBeUndefined();
  });

  it('would be refused with a mistake in it (the check can fail)', async () => {
    await expect(
      validateConfiguration({ ...config, linux: { targets: ['deb'] } } as Configuration, quiet),
    ).rejects.toThrow(/linux/);
  });

  it('sets every fuse explicitly, as typed in fuses.ts', () => {
    expect(config.electronFuses).toEqual(KIOSK_FUSES);
    expect(KIOSK_FUSES).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('packages a Linux kiosk (deb) with the systemd unit, in an asar', () => {
    expect(config.linux?.target).toEqual(['deb']);
    expect(config.asar).toBe(true);
    expect(config.deb?.fpm).toContain(
      'packaging/clubcard-kiosk.service=/lib/systemd/system/clubcard-kiosk.service',
    );
  });
});

describe('systemd unit', () => {
  const unit = readFileSync(join(PACKAGING, 'clubcard-kiosk.service'), 'utf8');
  const EXEC = '/opt/clubcard-kiosk/clubcard-kiosk';

  it('passes systemd-analyze verify', () => {
    // verify also checks that ExecStart's binary exists; it is installed by the .deb,
    // so here it points at a stand-in and everything else is checked as written.
    const dir = mkdtempSync(join(tmpdir(), 'clubcard-unit-'));
    try {
      const stub = join(dir, 'clubcard-kiosk');
      writeFileSync(stub, '#!/bin/sh\n');
      chmodSync(stub, 0o755);
      expect(unit).toContain(`ExecStart=${EXEC}\n`);
      const file = join(dir, 'clubcard-kiosk.service');
      writeFileSync(file, unit.replace(`ExecStart=${EXEC}`, `ExecStart=${stub}`));
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect(r.error, 'systemd-analyze is missing: scripts/install-system-deps.sh').toBeUndefined();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the packaged executable as its own user and always restarts it', () => {
    expect(unit).toMatch(/^User=clubcard-kiosk$/m);
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^StateDirectory=clubcard-kiosk$/m);
    expect(config.linux?.executableName).toBe('clubcard-kiosk');
    expect(config.productName).toBe('clubcard-kiosk');
  });
});
