import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';

/** Runs that finish sooner than this show no bar at all: a bar that flashes by is noise. */
export const PROGRESS_BAR_DELAY_MS = 1_000;

export interface Progress {
  /** `total` undefined: the amount of work is unknown, so show a running count instead of a bar. */
  update(done: number, total?: number): void;
  stop(): void;
}

/**
 * A progress bar on the given stream (stderr: stdout carries the machine-readable result). It appears
 * only once a run has lasted PROGRESS_BAR_DELAY_MS, and only on a terminal: cli-progress draws nothing
 * when the stream is a pipe or a file, so logs and tests stay clean.
 */
export function startProgress(stream: Writable, label: string, unit: string): Progress {
  const startedAtMs = Date.now();
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(done, total) {
      if (bar === undefined) {
        if (Date.now() - startedAtMs < PROGRESS_BAR_DELAY_MS) return;
        const format =
          total === undefined ? `${label} | {value} ${unit}` : `${label} [{bar}] {percentage}% | ETA {eta_formatted}`;
        bar = new cliProgress.SingleBar({ stream, format, hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(total ?? 0, done);
        return;
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      bar?.stop();
    },
  };
}
