import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Runs the machine's pcscd for the pcsc test tier. There is one pcscd per machine: if
 * one is already running we use it and never touch it; if not we start `pcscd -f`
 * (foreground, so it is our child) and stop exactly that pid afterwards.
 *
 * Never `-a`: APDU logging writes card UIDs (personal data) to the log. Never `-x`
 * either: auto-exit would take vpcd's port away in the middle of the tier.
 */

export const PCSCD_SOCKET = process.env.PCSCLITE_CSOCK_NAME ?? '/run/pcscd/pcscd.comm';
export const VPCD_PORT = 35963;
/** util-linux's setpriv (Debian: always installed), to tie pcscd's life to ours. */
const SETPRIV = '/usr/bin/setpriv';

export interface PcscdHandle {
  /** True when this helper started pcscd (and so may stop or restart it). */
  readonly owned: boolean;
  /** pid of the pcscd we started, if any. */
  readonly pid: number | undefined;
  /** Last lines pcscd printed (error level only), for test failure messages. */
  log(): string;
  /** Stops our pcscd (SIGTERM, then SIGKILL). No-op when we do not own it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts pcscd again after stop(). */
  start(): Promise<void>;
}

export interface PcscdOptions {
  vpcdPort?: number;
  /** How long to wait for the daemon and vpcd to come up (default 10 s). */
  timeoutMs?: number;
}

export async function ensurePcscd(options: PcscdOptions = {}): Promise<PcscdHandle> {
  const vpcdPort = options.vpcdPort ?? VPCD_PORT;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (await pcscdAccepts()) {
    await waitFor(() => isListening(vpcdPort), timeoutMs, `vpcd port ${vpcdPort}`);
    return foreignHandle();
  }
  const handle = new OwnedPcscd(vpcdPort, timeoutMs);
  await handle.start();
  return handle;
}

function foreignHandle(): PcscdHandle {
  return {
    owned: false,
    pid: undefined,
    log: () => '(pcscd not started by the tests)',
    stop: async () => undefined,
    start: async () => undefined,
  };
}

class OwnedPcscd implements PcscdHandle {
  readonly owned = true;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];

  constructor(
    private readonly vpcdPort: number,
    private readonly timeoutMs: number,
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  log(): string {
    return this.#log.join('\n');
  }

  async start(): Promise<void> {
    if (this.#child) return;
    // Under setpriv --pdeathsig, pcscd is told to stop when this process dies, however it
    // dies (a benchmark killed mid-run must not leave a pcscd holding vpcd's port).
    const [cmd, args] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'TERM', 'pcscd', '-f']]
      : ['pcscd', ['-f']];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const keep = (chunk: Buffer): void => {
      this.#log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      this.#log = this.#log.slice(-50);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        // Said in the log, so a run whose card taps start failing says why.
        if (this.#child === child) {
          this.#log.push(`pcscd exited (${signal ?? `code ${code}`})`);
          this.#child = undefined;
        }
        resolve();
      });
    });
    child.once('error', (err) => this.#log.push(`spawn failed: ${err.message}`));
    await waitFor(
      async () => {
        if (!this.#child) throw new Error(`pcscd exited during start-up:\n${this.log()}`);
        return (await pcscdAccepts()) && (await isListening(this.vpcdPort));
      },
      this.timeoutMs,
      'pcscd and vpcd',
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    child.kill(signal);
    const killed = await Promise.race([
      this.#exited.then(() => true),
      sleep(5_000).then(() => false),
    ]);
    if (!killed) {
      child.kill('SIGKILL');
      await this.#exited;
    }
  }
}

/** True when pcscd's client socket accepts a connection (as libpcsclite would connect). */
export function pcscdAccepts(path = PCSCD_SOCKET): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Whether something LISTENs on a local TCP port, read from /proc/net/tcp{,6}. We do not
 * probe vpcd by connecting: to vpcd a connection *is* a card entering the field.
 */
export async function isListening(port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT" in hex; state 0A is TCP_LISTEN.
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A') return true;
    }
  }
  return false;
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
