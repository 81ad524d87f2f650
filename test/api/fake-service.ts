import type {
  IdempotencyClaim,
  IdempotencyStore,
  ListQuery,
  SubmitRequest,
  VideoService,
  VideoStatus,
} from '../../src/api/service.ts';
import type { VideoResult } from '../../src/results/types.ts';

/** In-memory VideoService for the API tests: records submissions, serves statuses and results the test sets. */
export class FakeVideoService implements VideoService {
  readonly submitted: SubmitRequest[] = [];
  readonly statuses = new Map<string, VideoStatus>();
  readonly resultsById = new Map<string, VideoResult>();
  isReady = true;
  failNextSubmit: Error | undefined;
  closed = false;

  async submit(request: SubmitRequest): Promise<{ id: string }> {
    if (this.failNextSubmit) {
      const error = this.failNextSubmit;
      this.failNextSubmit = undefined;
      throw error;
    }
    this.submitted.push(request);
    const id = `vid-${this.submitted.length}`;
    this.statuses.set(id, {
      id,
      state: 'queued',
      progress: { framesExpected: null, framesTotal: null, framesDone: 0, framesFailed: 0, fraction: null },
      errors: [],
    });
    return { id };
  }

  async status(id: string): Promise<VideoStatus | null> {
    return this.statuses.get(id) ?? null;
  }

  async results(id: string): Promise<VideoResult | null> {
    return this.resultsById.get(id) ?? null;
  }

  readonly sources = new Map<string, string>();

  async sourcePath(id: string): Promise<string | null> {
    return this.sources.get(id) ?? null;
  }

  async list(query: ListQuery): Promise<{ videos: VideoStatus[]; next: string | null }> {
    const all = [...this.statuses.values()]
      .reverse()
      .filter((v) => query.state === undefined || v.state === query.state);
    const start = query.cursor === undefined ? 0 : Number(query.cursor);
    const videos = all.slice(start, start + query.limit);
    return { videos, next: start + query.limit < all.length ? String(start + query.limit) : null };
  }

  async delete(id: string): Promise<{ cancelled: boolean } | null> {
    const status = this.statuses.get(id);
    if (status === undefined) return null;
    this.statuses.delete(id);
    this.resultsById.delete(id);
    return { cancelled: status.state !== 'completed' && status.state !== 'failed' };
  }

  readonly idempotency = new MemoryIdempotencyStore();

  async cancel(id: string): Promise<'cancelled' | 'finished' | null> {
    const status = this.statuses.get(id);
    if (status === undefined) return null;
    if (['completed', 'failed', 'cancelled'].includes(status.state)) return 'finished';
    this.statuses.set(id, {
      ...status,
      state: 'cancelled',
      errors: [{ code: 'cancelled', message: 'cancelled by request' }],
    });
    return 'cancelled';
  }

  /** What services() answers (a test may set it). */
  running = { workers: 1, producers: 1, warnings: [] as string[] };
  async services(): Promise<{ workers: number; producers: number; warnings: string[] }> {
    return this.running;
  }

  async ready(): Promise<boolean> {
    return this.isReady;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Idempotency-Key entries in memory, for the fake service (the real one keeps them in Redis). */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, { fingerprint: string; id?: string }>();
  async claim(scope: string, fingerprint: string): Promise<IdempotencyClaim> {
    const entry = this.entries.get(scope);
    if (entry === undefined) {
      this.entries.set(scope, { fingerprint });
      return { state: 'new' };
    }
    if (entry.fingerprint !== fingerprint) return { state: 'conflict' };
    return entry.id === undefined ? { state: 'in_progress' } : { state: 'replay', id: entry.id };
  }
  async complete(scope: string, fingerprint: string, id: string): Promise<void> {
    this.entries.set(scope, { fingerprint, id });
  }
  async release(scope: string): Promise<void> {
    this.entries.delete(scope);
  }
}
