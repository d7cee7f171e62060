import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface AppProcess {
  child: ChildProcess;
  url: string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Starts backend/src/main.ts or terminal/src/main.ts as a real process and waits for its
 * ready line. Used by tests that kill processes for real (SIGKILL).
 */
export function startApp(
  name: 'backend' | 'kiosk',
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<AppProcess> {
  const script = name === 'backend' ? 'backend/src/main.ts' : 'terminal/src/main.ts';
  return new Promise((resolve, reject) => {
    // node --import tsx: ONE process, so SIGKILL really kills the app (the tsx CLI would
    // run it in a child process that outlives its parent).
    const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}${script}`], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as { ready?: string; url?: string };
        if (m.ready === name && m.url) {
          clearTimeout(timer);
          resolve({ child, url: m.url, exited });
        }
      } catch {
        /* not a ready line */
      }
    });
  });
}

export async function kill(
  p: AppProcess | null,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  await p.exited;
}
