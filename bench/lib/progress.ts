// A one-line progress bar on stderr for long runs (redrawn in place on a terminal, a line every
// 10 % otherwise, so CI logs stay short).

export interface Progress {
  tick(done: number, note?: string): void;
  finish(note?: string): void;
}

export function progressBar(label: string, total: number): Progress {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let lastDecile = -1;
  const render = (done: number, note = '') => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const seconds = (performance.now() - started) / 1000;
    return `${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total} ${seconds.toFixed(0)} s ${note}`;
  };
  return {
    tick(done, note) {
      if (tty) process.stderr.write(`\r${render(done, note)}\x1b[K`);
      else {
        const decile = Math.floor((done / total) * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`${render(done, note)}\n`);
        }
      }
    },
    finish(note) {
      process.stderr.write(`${tty ? '\r' : ''}${render(total, note)}${tty ? '\x1b[K' : ''}\n`);
    },
  };
}
