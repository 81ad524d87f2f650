import type { VideoResult } from '../results/types.ts';

// What the HTTP API needs from the pipeline, and nothing more. The API is written and tested
// against this interface; src/api/pipeline-service.ts implements it over the pipeline's
// submission, status and result storage.

/** Per-video processing options a client may set (all optional: configuration supplies defaults). */
export interface SubmitOptions {
  /** Frames sampled per second of video. */
  readonly fps?: number;
  /** Seconds from the start of the video where sampling starts / stops. */
  readonly startSeconds?: number;
  readonly endSeconds?: number;
  /** Stop after this many sampled frames. */
  readonly maxFrames?: number;
}

export interface SubmitRequest {
  /** Absolute path of the video file, readable by producers. */
  readonly path: string;
  /** The name the client gave the file (uploads), for display. */
  readonly originalName?: string;
  /** True when the API wrote the file (an upload) and it may be deleted once processed. */
  readonly uploaded: boolean;
  readonly options: SubmitOptions;
  /** The caller's token name; the video belongs to it (absent: the API runs without tokens). */
  readonly owner?: string;
  /** Told (POST, signed) when the video completes or fails. */
  readonly callbackUrl?: string;
}

/**
 * Who is asking: the token's name, or undefined when the API runs without tokens. With a name,
 * only videos submitted by that token are found (others are "not found", not "forbidden").
 */
export type Caller = string | undefined;

/**
 * queued → probing → producing (frames being extracted) → processing (all enqueued) → completed |
 * failed | cancelled (POST /v1/videos/{id}/cancel; kept, like failed ones, for the retention period).
 */
export const VIDEO_STATES = [
  'queued',
  'probing',
  'producing',
  'processing',
  'completed',
  'failed',
  'cancelled',
] as const;
export type VideoState = (typeof VIDEO_STATES)[number];

export interface VideoStatus {
  readonly id: string;
  readonly state: VideoState;
  /** File name shown to users (the upload's name or the path's base name). */
  readonly name?: string;
  readonly progress: {
    /** Frames the sampling should give, from the probed duration; null before probing. */
    readonly framesExpected: number | null;
    /** Exact number of sampled frames, known once extraction has finished. */
    readonly framesTotal: number | null;
    /** Frames analysed or failed so far. */
    readonly framesDone: number;
    readonly framesFailed: number;
    /** framesDone / (framesTotal, else framesExpected), 0..1; null while neither is known. */
    readonly fraction: number | null;
  };
  /** Why the video failed (one entry, with a stable code); empty otherwise. Failed frames are counted in progress. */
  readonly errors: ReadonlyArray<{ readonly code: string; readonly message: string }>;
  /** While open: the roles it waits for that no running process has (src/pipeline/heartbeats.ts). */
  readonly warnings?: readonly string[];
  readonly submittedAt?: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
  /** Its end-of-video webhooks: per endpoint the delivery state (pending, delivered, failed), attempts, last error. */
  readonly webhooks?: ReadonlyArray<{
    readonly target: 'callback' | 'configured';
    readonly url?: string;
    readonly state: 'pending' | 'delivered' | 'failed';
    readonly attempts: number;
    readonly lastError?: string;
    readonly deliveredAt?: string;
  }>;
}

export interface ListQuery {
  readonly state?: VideoState;
  readonly limit: number;
  /** The `next` of the previous page. */
  readonly cursor?: string;
}

/** What a stored key says about a new request with it. */
export type IdempotencyClaim =
  | { readonly state: 'new' }
  | { readonly state: 'replay'; readonly id: string }
  | { readonly state: 'conflict' }
  | { readonly state: 'in_progress' };

/** Where keys are kept (Redis in the pipeline service, memory in tests). */
export interface IdempotencyStore {
  /** Claims `key` for a request with `fingerprint`, or says what an earlier request with it did. */
  claim(scope: string, fingerprint: string): Promise<IdempotencyClaim>;
  /** The claimed request made video `id`. */
  complete(scope: string, fingerprint: string, id: string): Promise<void>;
  /** The claimed request failed: the key may be used again. */
  release(scope: string): Promise<void>;
}

export interface VideoService {
  /** Queues a video; resolves with its id once it is durably queued. */
  submit(request: SubmitRequest): Promise<{ id: string }>;
  /** null for an unknown (or expired) id, or a video of another caller. */
  status(id: string, caller?: Caller): Promise<VideoStatus | null>;
  /** The per-video result; null while the video is not completed, for an unknown id or another caller's video. */
  results(id: string, caller?: Caller): Promise<VideoResult | null>;
  /**
   * Where the video's source file is (it may be gone: uploads are deleted once processed); null: unknown or another
   * caller's.
   */
  sourcePath(id: string, caller?: Caller): Promise<string | null>;
  /** The caller's videos, newest first (every video when the API runs without tokens). */
  list(query: ListQuery, caller?: Caller): Promise<{ videos: VideoStatus[]; next: string | null }>;
  /**
   * Deletes a video in any state (an open one is cancelled: its queued work dropped, its frame
   * bytes given back) with every record of it and its uploaded file. null: unknown, or another caller's.
   */
  delete(id: string, caller?: Caller): Promise<{ cancelled: boolean } | null>;
  /**
   * Cancels an open video, keeping its record (state `cancelled`) for the retention period: its
   * queued work is dropped and its frame bytes given back. `finished`: it had already ended; null:
   * unknown, or another caller's.
   */
  cancel(id: string, caller?: Caller): Promise<'cancelled' | 'finished' | null>;
  /** Where POST /v1/videos's Idempotency-Key entries are kept. */
  readonly idempotency: IdempotencyStore;
  /** True when the service can take work (Redis reachable). */
  ready(): Promise<boolean>;
  /** Producers and workers running (a heartbeat within FER_SERVICE_SEEN_SECONDS), and what is missing. */
  services(): Promise<{ readonly workers: number; readonly producers: number; readonly warnings: readonly string[] }>;
  close(): Promise<void>;
}
