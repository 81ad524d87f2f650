// Progress of videos on the terminal: bars redrawn in place on a TTY, plain lines otherwise (one per
// state change, and one per open video every PROGRESS_LINE_INTERVAL_MS while its frames move, so a
// long run in a pipe or CI log shows it is alive), so logs and CI output stay readable. On a TTY the
// bars never exceed the terminal's height (more videos than rows: one summary line plus the active
// ones, so nothing is ever redrawn into the scrollback), and log lines are printed above the bars,
// never over them.

/** What the display needs of a video's status (the pipeline's and the API's both have it). */
export interface ProgressStatus {
  readonly state: string;
  readonly progress: {
    readonly framesDone: number;
    readonly framesFailed: number;
    readonly framesTotal: number | null;
    readonly framesExpected: number | null;
  };
  readonly error?: { readonly message: string } | null | undefined;
}

export interface ProgressView {
  update(statuses: ReadonlyMap<string, ProgressStatus>): void;
  /** One line of text (a log line, a warning) printed without disturbing the display. */
  log(line: string): void;
  done(): void;
}

/** Off a terminal: at most one progress line per open video this often (besides its state changes). */
export const PROGRESS_LINE_INTERVAL_MS = 10_000;

export function createProgressView(
  stream: NodeJS.WriteStream,
  names: ReadonlyMap<string, string>,
  options: { lineIntervalMs?: number } = {},
): ProgressView {
  return stream.isTTY
    ? new BarView(stream, names)
    : new LineView(stream, names, options.lineIntervalMs ?? PROGRESS_LINE_INTERVAL_MS);
}

function fraction(s: ProgressStatus): number {
  const total = s.progress.framesTotal ?? s.progress.framesExpected;
  if (s.state === 'completed') return 1;
  if (!total) return 0;
  return Math.min(1, s.progress.framesDone / total);
}

function describe(s: ProgressStatus): string {
  const p = s.progress;
  const total = p.framesTotal ?? (p.framesExpected !== null ? `~${p.framesExpected}` : '?');
  const failed = p.framesFailed > 0 ? `, ${p.framesFailed} failed` : '';
  if (s.state === 'failed') return `failed: ${s.error?.message ?? 'unknown error'}`;
  return `${s.state} ${p.framesDone}/${total} frames${failed}`;
}

const finished = (s: ProgressStatus | undefined) => s?.state === 'completed' || s?.state === 'failed';

class BarView implements ProgressView {
  private lines = 0;
  private rows: string[] = [];
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly names: ReadonlyMap<string, string>,
  ) {}

  update(statuses: ReadonlyMap<string, ProgressStatus>): void {
    this.rows = this.render(statuses);
    this.redraw();
  }

  log(line: string): void {
    // Up over the bars, clear them, print the line where they were, draw them again below it.
    this.stream.write(`${this.lines > 0 ? `\x1b[${this.lines}A` : ''}\x1b[J${line}\n`);
    this.lines = 0;
    this.redraw();
  }

  done(): void {
    this.lines = 0;
  }

  private redraw(): void {
    const columns = this.stream.columns ?? 120;
    let out = this.lines > 0 ? `\x1b[${this.lines}A` : '';
    for (const row of this.rows) out += `\x1b[2K${row.slice(0, columns - 1)}\n`;
    // Fewer rows than last time (videos finished into the summary): clear what is left below.
    out += '\x1b[J';
    this.stream.write(out);
    this.lines = this.rows.length;
  }

  private render(statuses: ReadonlyMap<string, ProgressStatus>): string[] {
    const width = 24;
    const nameWidth = Math.min(28, Math.max(...[...this.names.values()].map((n) => n.length)));
    const bar = (id: string, name: string) => {
      const s = statuses.get(id);
      const filled = s ? Math.round(fraction(s) * width) : 0;
      const label = name.length > nameWidth ? `…${name.slice(-(nameWidth - 1))}` : name.padEnd(nameWidth);
      return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${s ? describe(s) : 'submitting'}`;
    };
    const entries = [...this.names];
    // Leave a row for the cursor and one for the line the user typed.
    const room = Math.max(2, (this.stream.rows ?? 24) - 2);
    if (entries.length <= room) return entries.map(([id, name]) => bar(id, name));
    // Too many for the screen: a summary, then the videos being worked on, then the queued ones.
    const count = (pred: (s: ProgressStatus | undefined) => boolean) =>
      entries.filter(([id]) => pred(statuses.get(id))).length;
    const done = count((s) => s?.state === 'completed');
    const failedCount = count((s) => s?.state === 'failed');
    const open = entries.filter(([id]) => !finished(statuses.get(id)));
    const rank = (s: ProgressStatus | undefined) =>
      s === undefined ? 3 : s.progress.framesDone > 0 ? 0 : s.state === 'queued' ? 2 : 1;
    const active = [...open].sort(([a], [b]) => rank(statuses.get(a)) - rank(statuses.get(b)));
    const shown = active.slice(0, room - 1);
    const summary = `${entries.length} videos: ${done} completed, ${failedCount} failed, ${open.length} to go${open.length > shown.length ? ` (${open.length - shown.length} more not shown)` : ''}`;
    return [summary, ...shown.map(([id, name]) => bar(id, name))];
  }
}

class LineView implements ProgressView {
  private readonly last = new Map<string, { key: string; line: string; at: number }>();
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly names: ReadonlyMap<string, string>,
    private readonly intervalMs: number,
  ) {}

  update(statuses: ReadonlyMap<string, ProgressStatus>): void {
    const now = Date.now();
    for (const [id, s] of statuses) {
      // A line per state change, and while frames move at most one per interval: quiet enough for logs.
      const key = s.state === 'completed' || s.state === 'failed' ? describe(s) : s.state;
      const line = describe(s);
      const before = this.last.get(id);
      const changed = before?.key !== key;
      const moved = before !== undefined && before.line !== line && now - before.at >= this.intervalMs;
      if (!changed && !moved) continue;
      this.last.set(id, { key, line, at: now });
      this.stream.write(`${this.names.get(id) ?? id}: ${line}\n`);
    }
  }

  log(line: string): void {
    this.stream.write(`${line}\n`);
  }

  done(): void {}
}
