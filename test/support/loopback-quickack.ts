import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * vpcd 3.3 (Debian's vsmartcard-vpcd) sends each command to the virtual card in two
 * `send()` calls: the 2-byte length, then the APDU. With Nagle's algorithm on vpcd's
 * socket the second write waits for the ACK of the first, and the receiving kernel delays
 * that ACK (about 40 ms on Linux) — so every APDU through vpcd costs ~40 ms that no USB
 * reader has. Newer vpcd sends both in one buffer. Node cannot set TCP_QUICKACK on its
 * side, so for measurements we turn on `quickack` for the loopback routes (which makes
 * the kernel ACK at once) and put the routes back afterwards.
 *
 * Needs CAP_NET_ADMIN (root); without it the caller is told and nothing changes.
 */
export interface QuickAckHandle {
  readonly enabled: boolean;
  /** Why it could not be enabled, when it could not. */
  readonly reason: string | null;
  restore(): Promise<void>;
}

const LOOPBACK = /^local (127\.0\.0\.0\/8|127\.0\.0\.1) /;

export async function enableLoopbackQuickAck(): Promise<QuickAckHandle> {
  let original: string[];
  try {
    const { stdout } = await run('ip', ['route', 'show', 'table', 'local']);
    original = stdout.split('\n').filter((l) => LOOPBACK.test(l));
  } catch (err) {
    return notEnabled(`cannot read routes: ${(err as Error).message}`);
  }
  if (original.length === 0) return notEnabled('no loopback routes in table local');
  const applied: string[] = [];
  try {
    for (const line of original) {
      const base = line.replace(/\s+quickack \d+/, '').trim();
      await run('ip', [
        'route',
        'replace',
        ...base.split(/\s+/),
        'table',
        'local',
        'quickack',
        '1',
      ]);
      applied.push(line);
    }
  } catch (err) {
    await restoreRoutes(applied);
    return notEnabled(`ip route replace refused: ${(err as Error).message.split('\n')[0]}`);
  }
  let restored = false;
  const restore = async (): Promise<void> => {
    if (restored) return;
    restored = true;
    await restoreRoutes(original);
  };
  process.once('exit', () => {
    if (!restored) for (const line of original) execFileSync('ip', routeArgs(line));
  });
  return { enabled: true, reason: null, restore };
}

function routeArgs(line: string): string[] {
  return ['route', 'replace', ...line.trim().split(/\s+/), 'table', 'local'];
}

async function restoreRoutes(lines: string[]): Promise<void> {
  for (const line of lines) await run('ip', routeArgs(line));
}

function notEnabled(reason: string): QuickAckHandle {
  return { enabled: false, reason, restore: async () => undefined };
}
