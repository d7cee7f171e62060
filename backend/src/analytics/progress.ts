/**
 * A one-line progress bar on stderr (stdout stays for machine-readable output). Redraws
 * at most every 200 ms; prints plain lines when stderr is not a terminal, so logs of CI
 * runs stay readable.
 */
export interface ProgressBar {
  update(done: number, total: number, note?: string): void;
  done(note?: string): void;
}

export function progressBar(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressBar {
  const started = Date.now();
  let last = 0;
  let lastPct = -1;
  const tty = stream.isTTY === true;
  const render = (done: number, total: number, note: string): string => {
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const fill = Math.round(frac * width);
    const secs = (Date.now() - started) / 1000;
    return `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${secs.toFixed(1)}s${note ? ` ${note}` : ''}`;
  };
  return {
    update(done, total, note = '') {
      const now = Date.now();
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      if (tty) {
        if (now - last < 200) return;
        last = now;
        stream.write(`\r${render(done, total, note)}\u001b[K`);
      } else if (pct >= lastPct + 10) {
        lastPct = pct - (pct % 10);
        stream.write(`${render(done, total, note)}\n`);
      }
    },
    done(note = '') {
      stream.write(`${tty ? '\r' : ''}${render(1, 1, note)}${tty ? '\u001b[K' : ''}\n`);
    },
  };
}
