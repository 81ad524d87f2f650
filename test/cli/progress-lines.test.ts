import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgressView, type ProgressStatus } from '../../src/cli/progress.ts';

// Off a terminal (a pipe, a CI log) progress is plain lines: one per state change, and while an
// open video's frames move at most one per interval — a long run is never silent for minutes.

function stream(): NodeJS.WriteStream & { text: string } {
  const out = {
    isTTY: false,
    text: '',
    write(chunk: string) {
      out.text += chunk;
      return true;
    },
  };
  return out as unknown as NodeJS.WriteStream & { text: string };
}
const status = (state: string, framesDone: number, framesExpected: number | null = 100): ProgressStatus => ({
  state,
  progress: { framesDone, framesFailed: 0, framesTotal: null, framesExpected },
});

afterEach(() => vi.useRealTimers());

describe('progress lines off a terminal', () => {
  it('a line per state change, and one per interval while frames move, none while they do not', () => {
    vi.useFakeTimers({ now: 0 });
    const out = stream();
    const view = createProgressView(out, new Map([['v1', 'talk.mp4']]), { lineIntervalMs: 10_000 });
    const at = (ms: number, s: ProgressStatus) => {
      vi.setSystemTime(ms);
      view.update(new Map([['v1', s]]));
    };
    at(0, status('queued', 0, null));
    at(1_000, status('producing', 3));
    at(5_000, status('producing', 20));
    at(11_500, status('producing', 40));
    at(13_000, status('producing', 45));
    at(30_000, status('producing', 45));
    // Stalled: nothing new to say, however long.
    at(45_000, status('producing', 45));
    at(60_000, status('producing', 45));
    at(61_000, status('processing', 60));
    at(62_000, {
      ...status('completed', 100),
      progress: { framesDone: 100, framesFailed: 0, framesTotal: 100, framesExpected: 100 },
    });
    expect(out.text.trim().split('\n')).toEqual([
      'talk.mp4: queued 0/? frames',
      'talk.mp4: producing 3/~100 frames',
      'talk.mp4: producing 40/~100 frames',
      'talk.mp4: producing 45/~100 frames',
      'talk.mp4: processing 60/~100 frames',
      'talk.mp4: completed 100/100 frames',
    ]);
  });
});
