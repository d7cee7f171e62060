import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { AppError } from '@clubcard/shared';

/**
 * Keeping the kiosk's process on one CPU.
 *
 * A tap's record is flushed to disk by a thread of the process's thread pool while the
 * main thread makes the screen's answer, then the main thread is woken to give it. When
 * the two threads sit on different CPUs, that wake-up crosses CPUs: the idle CPU must be
 * brought out of its sleep first, which on a virtual machine (and on a small PC in a deep
 * power-saving state) is slow. `bench:tap` on the development machine (2 vCPUs): the wait
 * for the flush after the answer was made fell from 0.33–0.39 ms at p50 to 0.08–0.09 ms
 * with the process on one CPU. Everything else on the machine (pcscd, the kiosk's window)
 * keeps the other CPUs.
 *
 * Set with the kiosk config's `cpu`: `auto` (the default) takes the last CPU the process
 * may run on, when it may run on two or more; a number takes that CPU; `off` leaves the
 * process as the system placed it (a service manager may have placed it already, e.g.
 * systemd's CPUAffinity=). Linux only, through util-linux's `taskset`.
 */
export type KioskCpu = 'auto' | 'off' | number;

/** What keepToOneCpu did. */
export type CpuPlacement =
  | { kept: true; cpu: number }
  | {
      kept: false;
      /** Why not, in words safe to log. */
      reason: string;
    };

/** The CPUs in a Linux CPU list (`0-3,6,8-9`, as in /proc/PID/status); null if malformed. */
export function parseCpuList(text: string): number[] | null {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part);
    if (!m) return null;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return null;
    for (let c = from; c <= to; c++) cpus.push(c);
  }
  return cpus;
}

/**
 * The CPU the setting asks for among those the process may run on, or why none: `auto`
 * takes the last of two or more; a number must be one of them (AppError config-invalid
 * otherwise: a kiosk told to use a CPU it does not have is misconfigured).
 */
export function chooseCpu(setting: KioskCpu, allowed: readonly number[]): CpuPlacement {
  if (setting === 'off') return { kept: false, reason: 'the kiosk config says off' };
  if (setting === 'auto') {
    const last = allowed[allowed.length - 1];
    if (allowed.length < 2 || last === undefined) {
      return { kept: false, reason: 'the process may run on one CPU only already' };
    }
    return { kept: true, cpu: last };
  }
  if (!allowed.includes(setting)) {
    throw new AppError(
      'config-invalid',
      `invalid kiosk configuration: cpu: CPU ${setting} is not one this process may run on (${allowed.join(', ')})`,
    );
  }
  return { kept: true, cpu: setting };
}

export interface CpuAffinityDeps {
  platform: NodeJS.Platform;
  pid: number;
  /** The contents of /proc/PID/status. */
  readStatus: (pid: number) => Promise<string>;
  /** Runs a program, resolving when it exits with 0 and rejecting otherwise. */
  run: (file: string, args: readonly string[]) => Promise<void>;
}

const defaultDeps: CpuAffinityDeps = {
  platform: process.platform,
  pid: process.pid,
  readStatus: (pid) => readFile(`/proc/${pid}/status`, 'utf8'),
  run: (file, args) =>
    new Promise((resolve, reject) => {
      execFile(file, [...args], { timeout: 5000 }, (err, _out, stderr) => {
        if (err) reject(new Error(stderr.trim() || err.message));
        else resolve();
      });
    }),
};

/**
 * Keeps every thread of this process (the main thread, the thread pool, the runtime's
 * own) on the one CPU the setting chooses; threads made later inherit it, and so do
 * child processes started afterwards, so call it once what should keep the other CPUs
 * (a window's processes) has started. Never throws for what the machine lacks (not
 * Linux, no taskset): it says why it did nothing, and the kiosk runs as before.
 */
export async function keepToOneCpu(
  setting: KioskCpu,
  options: Partial<CpuAffinityDeps> = {},
): Promise<CpuPlacement> {
  const deps: CpuAffinityDeps = { ...defaultDeps, ...options };
  if (setting === 'off') return { kept: false, reason: 'the kiosk config says off' };
  if (deps.platform !== 'linux') return { kept: false, reason: 'not Linux' };
  let allowed: number[] | null = null;
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(await deps.readStatus(deps.pid));
    allowed = m?.[1] === undefined ? null : parseCpuList(m[1]);
  } catch {
    // no /proc: said below
  }
  if (allowed === null || allowed.length === 0) {
    return { kept: false, reason: 'the CPUs this process may run on could not be read' };
  }
  const choice = chooseCpu(setting, allowed);
  if (!choice.kept) return choice;
  try {
    await deps.run('taskset', [
      '--all-tasks',
      '--cpu-list',
      '--pid',
      String(choice.cpu),
      String(deps.pid),
    ]);
  } catch (e) {
    return { kept: false, reason: `taskset failed: ${(e as Error).message}` };
  }
  return choice;
}
