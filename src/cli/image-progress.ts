// Progress over a stream of images whose count is not known up front: on a terminal one line
// redrawn at most 10 times a second (images done, failures, rate); elsewhere a line every 10 s,
// so a long run in CI or a log is never silent and never floods.

import { performance } from 'node:perf_hooks';

export class ImageProgress {
  private done_ = 0;
  private failed = 0;
  private readonly start = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  tick(failed: boolean): void {
    this.done_++;
    if (failed) this.failed++;
    const now = performance.now();
    const interval = this.stream.isTTY ? 100 : 10_000;
    if (now - this.lastDraw >= interval) this.draw(now);
  }

  done(): void {
    if (this.done_ === 0) return;
    if (this.stream.isTTY) {
      this.draw(performance.now());
      this.stream.write('\n');
    }
  }

  private draw(now: number): void {
    this.lastDraw = now;
    const seconds = (now - this.start) / 1000;
    const rate = seconds > 0 ? this.done_ / seconds : 0;
    const line = `${this.label}: ${this.done_} images${this.failed > 0 ? `, ${this.failed} failed` : ''} (${rate.toFixed(0)}/s, ${seconds.toFixed(0)} s)`;
    if (this.stream.isTTY) this.stream.write(`\r${line}\x1b[K`);
    else this.stream.write(`${line}\n`);
  }
}
