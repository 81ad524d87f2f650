import type { VideoResult } from '../results/types.ts';

// What the HTTP API needs from the pipeline, and nothing more. The API is written and tested
// against this interface; src/api/pipeline-service.ts implements it over the pipeline's
// submission, status and result storage.

/** Per-video processing options a client may set (all optional: configuration supplies defaults). */
export interface SubmitOptions {
  /** Frames sampled per second of video. */
  readonly fps?: number;
  /** Seconds from the start of the video where sampling starts / stops. */
  readonly startTime?: number;
  readonly endTime?: number;
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
}

export type VideoState = 'queued' | 'processing' | 'completed' | 'failed';

export interface VideoStatus {
  readonly id: string;
  readonly state: VideoState;
  readonly source?: string;
  readonly progress: {
    /** Frames the producer will sample; null until known (probing not done). */
    readonly framesTotal: number | null;
    /** Frames analysed or failed so far. */
    readonly framesDone: number;
    readonly framesFailed: number;
    /** framesDone / framesTotal (0..1), null while framesTotal is unknown. */
    readonly fraction: number | null;
  };
  /** Why the video (or some of its frames) failed; empty when all is well. */
  readonly errors: readonly string[];
  readonly submittedAt?: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
}

export interface VideoService {
  /** Queues a video; resolves with its id once it is durably queued. */
  submit(request: SubmitRequest): Promise<{ id: string }>;
  /** null for an unknown (or expired) id. */
  status(id: string): Promise<VideoStatus | null>;
  /** The per-video result; null while the video is not completed or for an unknown id. */
  results(id: string): Promise<VideoResult | null>;
  /** True when the service can take work (Redis reachable). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
