import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AppError } from '@clubcard/shared';
import { describe, expect, it, vi } from 'vitest';
import { chooseCpu, keepToOneCpu, parseCpuList } from './cpu-affinity.js';

const STATUS = (list: string): string =>
  `Name:\tnode\nState:\tS (sleeping)\nCpus_allowed:\t3\nCpus_allowed_list:\t${list}\nMems_allowed_list:\t0\n`;

function allowedOf(pid: number): number[] | null {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] === undefined ? null : parseCpuList(m[1]);
}

describe('parseCpuList', () => {
  it('reads ranges and single CPUs', () => {
    expect(parseCpuList('0-1')).toEqual([0, 1]);
    expect(parseCpuList('0-3,6,8-9\n')).toEqual([0, 1, 2, 3, 6, 8, 9]);
    expect(parseCpuList('5')).toEqual([5]);
  });

  it('refuses what is not a CPU list', () => {
    for (const bad of ['', 'x', '3-1', '0,,1', '1-', '0-1;2']) expect(parseCpuList(bad)).toBeNull();
  });
});

describe('chooseCpu', () => {
  it('auto takes the last of two or more CPUs, and leaves a single CPU alone', () => {
    expect(chooseCpu('auto', [0, 1])).toEqual({ kept: true, cpu: 1 });
    expect(chooseCpu('auto', [0, 2, 5])).toEqual({ kept: true, cpu: 5 });
    expect(chooseCpu('auto', [3])).toMatchObject({ kept: false });
  });

  it('takes a number it may use, and refuses one it may not as a configuration error', () => {
    expect(chooseCpu(0, [0, 1])).toEqual({ kept: true, cpu: 0 });
    expect(chooseCpu('off', [0, 1])).toMatchObject({ kept: false });
    let thrown: unknown = null;
    try {
      chooseCpu(7, [0, 1]);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe('config-invalid');
    expect((thrown as AppError).message).toMatch(
      /cpu: CPU 7 is not one this process may run on \(0, 1\)/,
    );
  });
});

describe('keepToOneCpu', () => {
  const deps = (list: string, run = vi.fn(async () => undefined)) => ({
    platform: 'linux' as const,
    pid: 4242,
    readStatus: async () => STATUS(list),
    run,
  });

  it('runs taskset on every thread of the process, for the chosen CPU', async () => {
    const d = deps('0-1');
    await expect(keepToOneCpu('auto', d)).resolves.toEqual({ kept: true, cpu: 1 });
    expect(d.run).toHaveBeenCalledWith('taskset', [
      '--all-tasks',
      '--cpu-list',
      '--pid',
      '1',
      '4242',
    ]);
  });

  it('does nothing, and says why, when off, not on Linux, on one CPU or without /proc', async () => {
    const run = vi.fn(async () => undefined);
    expect(await keepToOneCpu('off', deps('0-1', run))).toMatchObject({ kept: false });
    expect(await keepToOneCpu('auto', { ...deps('0-1', run), platform: 'darwin' })).toEqual({
      kept: false,
      reason: 'not Linux',
    });
    expect(await keepToOneCpu('auto', deps('2', run))).toMatchObject({ kept: false });
    const noProc = {
      ...deps('0-1', run),
      readStatus: () => Promise.reject(new Error('ENOENT')),
    };
    expect(await keepToOneCpu('auto', noProc)).toMatchObject({
      kept: false,
      reason: expect.stringMatching(/could not be read/),
    });
    expect(await keepToOneCpu('auto', deps('garbage', run))).toMatchObject({ kept: false });
    expect(run).not.toHaveBeenCalled();
  });

  it('reports a taskset failure (no taskset, not permitted) without throwing', async () => {
    const d = deps(
      '0-3',
      vi.fn(() => Promise.reject(new Error('taskset: failed to set pid 4242'))),
    );
    await expect(keepToOneCpu(2, d)).resolves.toEqual({
      kept: false,
      reason: 'taskset failed: taskset: failed to set pid 4242',
    });
  });

  it('throws a configuration error for a CPU the process may not run on', async () => {
    await expect(keepToOneCpu(9, deps('0-1'))).rejects.toThrow(/cpu: CPU 9 is not one/);
  });

  it('keeps a real process to one CPU with the system taskset', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = child.pid as number;
      const before = allowedOf(pid);
      expect(before).not.toBeNull();
      const placed = await keepToOneCpu('auto', { pid });
      if ((before as number[]).length >= 2) {
        const last = (before as number[])[(before as number[]).length - 1];
        expect(placed).toEqual({ kept: true, cpu: last });
        expect(allowedOf(pid)).toEqual([last]);
      } else {
        // A machine (or container) that gives this process one CPU: nothing to do.
        expect(placed).toMatchObject({ kept: false });
        expect(allowedOf(pid)).toEqual(before);
      }
    } finally {
      child.kill();
    }
  });
});
