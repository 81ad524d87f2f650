// Progress of videos on the terminal: one bar per video redrawn in place on a TTY, plain lines
// (one per state change) otherwise, so logs and CI output stay readable.

import type { VideoStatus } from '../pipeline/index.ts';

export interface ProgressView {
  update(statuses: ReadonlyMap<string, VideoStatus>): void;
  done(): void;
}

export function createProgressView(stream: NodeJS.WriteStream, names: ReadonlyMap<string, string>): ProgressView {
  return stream.isTTY ? new BarView(stream, names) : new LineView(stream, names);
}

function fraction(s: VideoStatus): number {
  const total = s.progress.framesTotal ?? s.progress.framesExpected;
  if (s.state === 'completed') return 1;
  if (!total) return 0;
  return Math.min(1, s.progress.framesDone / total);
}

function describe(s: VideoStatus): string {
  const p = s.progress;
  const total = p.framesTotal ?? (p.framesExpected !== null ? `~${p.framesExpected}` : '?');
  const failed = p.framesFailed > 0 ? `, ${p.framesFailed} failed` : '';
  if (s.state === 'failed') return `failed: ${s.error?.message ?? 'unknown error'}`;
  return `${s.state} ${p.framesDone}/${total} frames${failed}`;
}

class BarView implements ProgressView {
  private lines = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly names: ReadonlyMap<string, string>,
  ) {}

  update(statuses: ReadonlyMap<string, VideoStatus>): void {
    const width = 24;
    const nameWidth = Math.min(28, Math.max(...[...this.names.values()].map((n) => n.length)));
    const rows = [...this.names].map(([id, name]) => {
      const s = statuses.get(id);
      const filled = s ? Math.round(fraction(s) * width) : 0;
      const label = name.length > nameWidth ? `…${name.slice(-(nameWidth - 1))}` : name.padEnd(nameWidth);
      return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${s ? describe(s) : 'submitting'}`;
    });
    const columns = this.stream.columns ?? 120;
    let out = this.lines > 0 ? `\x1b[${this.lines}A` : '';
    for (const row of rows) out += `\x1b[2K${row.slice(0, columns - 1)}\n`;
    this.stream.write(out);
    this.lines = rows.length;
  }

  done(): void {
    this.lines = 0;
  }
}

class LineView implements ProgressView {
  private readonly last = new Map<string, string>();
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly names: ReadonlyMap<string, string>,
  ) {}

  update(statuses: ReadonlyMap<string, VideoStatus>): void {
    for (const [id, s] of statuses) {
      // One line per state change (not per frame): quiet enough for logs.
      const key = s.state === 'completed' || s.state === 'failed' ? describe(s) : s.state;
      if (this.last.get(id) === key) continue;
      this.last.set(id, key);
      this.stream.write(`${this.names.get(id) ?? id}: ${describe(s)}\n`);
    }
  }

  done(): void {}
}
