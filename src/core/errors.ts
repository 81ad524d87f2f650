// One catalogue of every error code fer-stream reports — to API clients (`{error: {code, message}}`),
// in a video's status (`errors[]`), in `classify`/`eval` rows and on the command line — with the
// HTTP status and the exit code each one maps to. FerError takes only these codes, so a new code is
// added here (and documented by it) or the type checker refuses it. The API answers the `request`
// codes (its OpenAPI enum); the other codes reach it only inside a video's status.

/** Exit codes of every command: stable, documented in docs/cli.md. */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** At least one video failed while others succeeded. */
  partial: 3,
  /** A service the command needs (Redis) cannot be reached. */
  unavailable: 4,
  /** The video is not finished yet (results asked too early): try again later. */
  pending: 5,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM: what the command had submitted was cancelled (128 + SIGINT). */
  interrupted: 130,
} as const;

/** Who meets the code: an API client (request), a video's status, or whoever runs the process. */
export type ErrorSurface = 'request' | 'video' | 'model' | 'setup' | 'runtime';

export interface ErrorSpec {
  readonly surface: ErrorSurface;
  /** HTTP status when it answers a request. */
  readonly http: number;
  /** Exit code of a command that ends with it. */
  readonly exit: number;
  readonly meaning: string;
}

const { failure, usage, unavailable, pending, interrupted } = EXIT_CODES;
// The surface stays a literal in each entry, so that the request codes are a type of their own.
const request = (http: number, meaning: string, exit: number = failure) =>
  ({ surface: 'request', http, exit, meaning }) as const;
const of = <S extends ErrorSurface>(surface: S, meaning: string, exit: number = failure, http = 400) =>
  ({ surface, http, exit, meaning }) as const;
const internal = <S extends ErrorSurface>(surface: S, meaning: string) => of(surface, meaning, failure, 500);

export const ERROR_CATALOGUE = {
  // Requests (HTTP API); this order is the OpenAPI enum's.
  invalid_request: request(400, 'the request does not follow the API description', usage),
  invalid_id: request(400, 'not a video id (letters, digits, _ - . :, at most 128)', usage),
  invalid_format: request(400, 'no such result format', usage),
  missing_file: request(400, 'an upload without its video file', usage),
  input_not_found: request(400, 'no file at the submitted path inside the input directory'),
  path_submission_disabled: request(403, 'this server takes uploads only (FER_INPUT_DIR unset)'),
  path_outside_input_dir: request(403, 'the submitted path leaves the input directory'),
  unauthorized: request(401, 'no token, or not a valid one'),
  not_found: request(404, 'no such video (or route), or not the caller’s'),
  request_timeout: request(408, 'the request did not arrive in time'),
  results_not_ready: request(409, 'the video is not finished yet', pending),
  video_failed: request(409, 'the video failed: it has no results'),
  video_cancelled: request(409, 'the video was cancelled: it has no results'),
  video_finished: request(409, 'the video has already ended'),
  idempotency_conflict: request(409, 'the Idempotency-Key was used for another submission'),
  payload_too_large: request(413, 'upload, body or form larger than allowed'),
  unsupported_media_type: request(415, 'neither a multipart upload nor JSON'),
  headers_too_large: request(431, 'request headers too large'),
  rate_limited: request(429, 'more requests than FER_API_RATE_LIMIT allows'),
  unavailable: request(
    503,
    'Redis unreachable or full, or the server is stopping; the request had no effect',
    unavailable,
  ),
  insufficient_storage: request(507, 'no room for the upload on the server'),
  internal_error: request(500, 'a fault of the server (logged there)'),

  // A video's own failures (its status `errors[]`; exit 1 or 3 for commands that ran it).
  invalid_video: of('video', 'ffprobe/ffmpeg cannot read it as a video'),
  no_video_stream: of('video', 'the file has no video stream (audio only)'),
  unsupported_container: of('video', 'a container outside FER_ALLOWED_CONTAINERS'),
  video_too_long: of('video', 'longer than FER_MAX_DURATION_SECONDS'),
  file_too_large: of('video', 'a file larger than the configured limit'),
  frame_too_large: of('video', 'a frame larger than the frame budget can ever hold'),
  empty_file: of('video', 'an empty file'),
  input_missing: of('video', 'the submitted file is gone'),
  invalid_option: of('video', 'a sampling option outside its limits (fps, start, end, frames)', usage),
  frame_budget_too_small: of('video', 'one chunk of its frames does not fit FER_REDIS_FRAME_BUDGET_BYTES'),
  no_frames: of('video', 'sampling found no frame in the span asked for'),
  probe_timeout: of('video', 'ffprobe took longer than FER_PROBE_TIMEOUT_MS'),
  decode_failed: of('video', 'ffmpeg failed while decoding it'),
  decode_timeout: of('video', 'ffmpeg produced no frame for too long'),
  producer_failed: of('video', 'splitting it into frames failed for good (retries used up)'),
  aggregation_failed: of('video', 'its results could not be aggregated'),
  video_stalled: of('video', 'no progress for longer than the recovery allows'),
  cancelled: of('video', 'cancelled by request (fer-stream cancel, DELETE or Ctrl-C)'),
  video_not_found: of('video', 'no such video id (never submitted, or past retention)'),
  annotate_failed: internal('video', 'drawing the annotated video failed'),
  file_unreadable: of('video', 'an image or video file that cannot be read'),

  // Models: installing, converting, loading.
  model_missing: of('model', 'a model directory or file is not installed (the message says how to get it)'),
  model_invalid: of('model', 'a model directory or file is not what it should be'),
  invalid_model_info: of('model', 'a stored model description cannot be read'),
  checksum_mismatch: of('model', 'a downloaded or copied file is not the published one'),
  download_failed: of('model', 'a download failed after its retries'),
  label_missing: of('model', 'the model has no labels for its classes'),
  label_unknown: of('model', 'a label that is neither an expression nor a class of the model'),
  provider_unavailable: of('model', 'no usable onnxruntime execution provider for the model'),

  // Setting up a process: options, configuration, services.
  usage: of('setup', 'a command line that cannot work', usage),
  invalid_choice: of('setup', 'an unknown analyzer, or a model directory that is not one', usage),
  config_invalid: of('setup', 'a setting outside what it accepts (the message names it)'),
  invalid_tokens: of('setup', 'FER_API_TOKENS cannot be read'),
  unsafe_listen: of('setup', 'an API on the network without tokens'),
  unsupported_redis_url: of('setup', 'a REDIS_URL scheme fer-stream cannot use'),
  demo_input_missing: of('setup', 'the demo’s sample photos are not installed'),
  media_tool_missing: of('setup', 'ffmpeg or ffprobe is not installed'),
  media_tool_failed: internal('setup', 'ffmpeg or ffprobe failed to run'),
  redis_unavailable: of('setup', 'Redis cannot be reached', unavailable, 503),
  redis_timeout: of('setup', 'Redis answered too slowly', unavailable, 503),
  redis_full: of('setup', 'Redis is at its maxmemory and refuses writes', unavailable, 503),
  redis_protocol: internal('runtime', 'Redis answered something the chunk client cannot read'),
  redis_moved: of('runtime', 'a cluster slot moved (the chunk router follows it)'),
  redis_error: internal('runtime', 'Redis refused a chunk command'),
  interrupted: of('setup', 'stopped by Ctrl-C or SIGTERM', interrupted),

  // Running models (worker, classify, eval).
  inference_failed: internal('runtime', 'onnxruntime failed to run a batch'),
  inference_input_invalid: internal('runtime', 'an input tensor does not match the model'),
  inference_thread_failed: internal('runtime', 'an inference thread failed to start'),
  inference_thread_crashed: internal('runtime', 'an inference thread died with runs in flight'),
  inference_abandoned: of('runtime', 'queued inference given up by a stopping process'),
  host_closed: of('runtime', 'the inference host was closed'),
  host_unavailable: internal('runtime', 'the inference host has no thread left'),
  batcher_closed: of('runtime', 'the batcher was closed'),
  preprocess_failed: of('runtime', 'an image could not be decoded or resized'),
  preprocess_closed: of('runtime', 'the preprocessing pool was closed'),
  image_size_mismatch: internal('runtime', 'an image whose pixels do not match its size'),
  image_unsupported: of('runtime', 'an image format that cannot be read'),
  image_invalid: of('runtime', 'an image that cannot be used (wrong pixel count, no pixels)'),
  image_too_large: of('runtime', 'an image larger than the decoder accepts (checked from its header)'),
  image_corrupt: of('runtime', 'an image file that is damaged'),
  image_empty: of('runtime', 'an empty image file'),
  csv_invalid: of('runtime', 'a CSV of images and labels that cannot be read', usage),
  invalid_input: of('runtime', 'labelled data that cannot train or score (e.g. a single class)', usage),
  queue_full: of('runtime', 'a bounded queue is full'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** A code the HTTP API answers a request with. */
export type RequestErrorCode = {
  [code in ErrorCode]: (typeof ERROR_CATALOGUE)[code]['surface'] extends 'request' ? code : never;
}[ErrorCode];

/** The codes the HTTP API answers with, in the catalogue's order (the OpenAPI enum). */
export const REQUEST_ERROR_CODES = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter(
  (code): code is RequestErrorCode => ERROR_CATALOGUE[code].surface === 'request',
);

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/** An error of ours: a catalogued code, a message for people, and the status and exit code it maps to. */
export class FerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FerError';
  }

  /** HTTP status when it answers a request. */
  get httpStatus(): number {
    return ERROR_CATALOGUE[this.code].http;
  }

  /** Exit code of a command that ends with it (the CLI's dispatcher reads it). */
  get exitCode(): number {
    return ERROR_CATALOGUE[this.code].exit;
  }
}
