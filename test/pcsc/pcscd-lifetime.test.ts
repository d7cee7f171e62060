import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { pcscdAccepts } from '../support/pcscd.js';

const SUPPORT = fileURLToPath(new URL('../support/pcscd.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the pcscd the tests start', () => {
  it('stops when the process that started it is killed outright', async () => {
    // The tier runs one file at a time and each stops its own pcscd: none is running here.
    expect(await pcscdAccepts()).toBe(false);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { ensurePcscd } from ${JSON.stringify(SUPPORT)};
         const h = await ensurePcscd();
         process.stdout.write(JSON.stringify({ owned: h.owned, pid: h.pid }) + '\\n');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    const started = JSON.parse(chunk.toString('utf8')) as { owned: boolean; pid: number };
    expect(started.owned).toBe(true);
    expect(alive(started.pid)).toBe(true);
    expect(await pcscdAccepts()).toBe(true);

    // SIGKILL: no exit handler of the child runs.
    child.kill('SIGKILL');
    await once(child, 'exit');
    const deadline = Date.now() + 10_000;
    while (alive(started.pid) && Date.now() < deadline) await sleep(100);
    expect(alive(started.pid)).toBe(false);
    expect(await pcscdAccepts()).toBe(false);
  }, 30_000);
});
