// Decodes a video straight to raw RGB frames at the sampling rate and working resolution, as a
// stream: ffmpeg writes rgb24 to a pipe, which is copied once into chunk buffers (of one frame or
// many) and only read while the consumer has handed a buffer back, so memory stays bounded
// whatever the video's length and no frame ever touches the disk.

import { Writable } from 'node:stream';
import { DEFAULT_ALLOWED_CONTAINERS } from '../config/pipeline.ts';
import { FerError } from '../core/errors.ts';
import {
  expectedFrameCount,
  sampledFrameTime,
  workingFrameSize,
  type SamplingSpan,
} from '../core/sampling-geometry.ts';
import { startFfmpeg, type Decoding } from './ffmpeg-run.ts';
import { safeInput, safeInputOptions } from './media-safety.ts';
import { seeksExactly, type VideoProbe } from './probe.ts';
import { samplesBySeeking, seekSourceTimes, startSeekDecoding } from './seek-decoding.ts';

/** What part of the video, how densely (SamplingSpan: fps, start, end, frame limit) and how ffmpeg decodes it. */
export interface SamplingOptions extends SamplingSpan {
  /** Long side of the working resolution (aspect kept, never upscaled). */
  readonly maxSide: number;
  /**
   * Yield every frame in the same buffer (valid only until the next frame is pulled): no
   * allocation per frame, for consumers that copy the pixels at once (the producer does).
   */
  readonly reuseBuffer?: boolean;
  /** ffmpeg decoder and filter threads (0 or absent: ffmpeg decides). */
  readonly decodeThreads?: number;
  /**
   * For bench:decode-modes only, so no setting offers them (BENCHMARKS.md): the decoder skips its
   * in-loop filters (`-skip_loop_filter all`: true times, but 3–13 % of the compact profile's answers
   * change at 720p–1080p) or the frames no other frame refers to (`-skip_frame noref`: the fps filter
   * then takes an earlier frame than the one at the sample's time).
   */
  readonly decoderSkip?: 'loop-filter' | 'non-reference';
  /**
   * Samples at least this many seconds apart are each decoded by seeking to them from their
   * keyframe (seek-decoding.ts) instead of by decoding every frame: the same frames, less CPU once
   * samples are ≥ 5 s apart (FER_DECODE_SEEK_SECONDS). 0 or absent: every frame is decoded.
   */
  readonly seekIntervalSeconds?: number;
  /** ffmpeg `-hwaccel` method to decode with (hwaccel.ts checks it works first); absent or null: software. */
  readonly hwaccel?: string | null;
  /** Demuxers ffmpeg may use (FER_ALLOWED_CONTAINERS); default: the configuration's default list. */
  readonly allowedContainers?: readonly string[];
  /**
   * ffmpeg is killed (FerError `decode_timeout`) when it delivers no data for this long while the
   * consumer waits for a chunk (FER_DECODE_IDLE_TIMEOUT_MS); absent: no limit.
   */
  readonly idleTimeoutMs?: number;
  /** Told of each decoding error ffmpeg reports in the stream (damaged data concealed or dropped). */
  readonly onDecodeError?: (line: string) => void;
  /**
   * Only this segment of the sampled frames (segments.ts): indexes from `firstIndex`, `frames` of
   * them (null: to the end). Decoding starts one sampling interval early and that frame is
   * dropped, so the fps filter picks the same source frame for the first index as a decode from
   * the start would (measured: identical frames at 2 and 3 fps from 25 and 29.97 fps sources).
   */
  readonly segment?: { readonly firstIndex: number; readonly frames: number | null };
}

export interface VideoFrame {
  /** 0-based index among the sampled frames. */
  readonly index: number;
  /** Presentation time in seconds from the start of the video. */
  readonly timestamp: number;
  readonly width: number;
  readonly height: number;
  /** rgb24, row-major, width × height × 3 bytes. */
  readonly data: Buffer;
}

export interface FrameChunk {
  /** Index (among the sampled frames) of the chunk's first frame. */
  readonly firstIndex: number;
  /** Frames in the chunk (the last chunk may hold fewer than asked for). */
  readonly frames: number;
  /** Presentation time of each frame, in seconds. */
  readonly timestamps: readonly number[];
  readonly width: number;
  readonly height: number;
  /** The frames' rgb24 bytes back to back: frames × width × height × 3. */
  readonly data: Buffer;
  /** Hands the buffer back for a later chunk; the decoder waits for one when all are out. */
  release(): void;
}

export interface ChunkingOptions {
  readonly framesPerChunk: number;
  /**
   * Frames in the first chunk (at most framesPerChunk; default framesPerChunk): a small first chunk
   * reaches a worker after a few frames are decoded instead of a whole chunk's worth.
   */
  readonly firstChunkFrames?: number;
  /**
   * Chunk buffers in rotation (default 2: one being filled while the consumer uses the other).
   * 0: a fresh buffer for every chunk, never reused (release does nothing).
   */
  readonly buffers?: number;
}

/**
 * Streams the sampled frames of `file` in chunks of consecutive frames. ffmpeg's output is
 * copied once, from the pipe straight into the chunk buffer; the pipe is read only while a
 * buffer is free, so memory stays at `buffers` chunks whatever the video's length. Breaking out
 * of the loop (or an error) kills ffmpeg. ffmpeg applies the display rotation itself
 * (autorotate), so frames come out upright.
 */
export async function* extractFrameChunks(
  file: string,
  probe: VideoProbe,
  options: SamplingOptions & ChunkingOptions,
): AsyncGenerator<FrameChunk> {
  if (!Number.isInteger(options.framesPerChunk) || options.framesPerChunk < 1) {
    throw new FerError('invalid_option', `frames per chunk must be an integer ≥ 1, got ${options.framesPerChunk}`);
  }
  const decoding = await startDecoding(file, probe, options);
  const { width, height } = decoding;
  const frameBytes = width * height * 3;
  const chunkBytes = options.framesPerChunk * frameBytes;
  const firstChunkFrames = Math.max(
    1,
    Math.min(options.framesPerChunk, options.firstChunkFrames ?? options.framesPerChunk),
  );
  /** Bytes that complete the chunk being filled: the first one may be shorter. */
  let chunkLimit = firstChunkFrames * frameBytes;
  /** Bytes of the frames decoded only to start the sampling grid (a segment's lead frame): dropped. */
  let leadBytes = decoding.leadFrames * frameBytes;
  const rotation = options.buffers ?? 2;
  const free: Buffer[] = Array.from({ length: rotation }, () => Buffer.allocUnsafeSlow(chunkBytes));
  let bufferWanted: (() => void) | undefined;
  /** When ffmpeg last delivered bytes (the idle timeout counts only while the consumer waits). */
  let lastData = Date.now();
  const takeBuffer = async (): Promise<Buffer> => {
    if (rotation === 0) return Buffer.allocUnsafe(chunkBytes);
    while (free.length === 0) await new Promise<void>((resolve) => (bufferWanted = resolve));
    return free.pop()!;
  };
  const giveBack = (buffer: Buffer) => {
    if (rotation === 0) return;
    free.push(buffer);
    const wake = bufferWanted;
    bufferWanted = undefined;
    wake?.();
  };

  const completed: FrameChunk[] = [];
  let ended = false;
  let chunkWanted: (() => void) | undefined;
  const wakeConsumer = () => {
    const wake = chunkWanted;
    chunkWanted = undefined;
    wake?.();
  };
  const idleTimeoutMs = options.idleTimeoutMs;
  /** Waits for the next chunk; with an idle timeout, fails when ffmpeg stays silent that long while we wait. */
  const waitForChunk = async (lastDataAt: () => number) => {
    // Counted from now: while no buffer was free ffmpeg was held back by us, not idle.
    lastData = Date.now();
    if (idleTimeoutMs === undefined) return new Promise<void>((resolve) => (chunkWanted = resolve));
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const woke = await new Promise<boolean>((resolve) => {
        chunkWanted = () => resolve(true);
        timer = setTimeout(() => resolve(false), Math.max(1, lastDataAt() + idleTimeoutMs - Date.now()));
      });
      clearTimeout(timer);
      if (woke) return;
      if (Date.now() - lastDataAt() >= idleTimeoutMs) {
        chunkWanted = undefined;
        throw new FerError(
          'decode_timeout',
          `ffmpeg delivered no frame data for ${idleTimeoutMs} ms (FER_DECODE_IDLE_TIMEOUT_MS); the file may be damaged or pathological`,
        );
      }
    }
  };
  let current: Buffer | undefined;
  let filled = 0;
  let nextIndex = options.segment?.firstIndex ?? 0;
  const complete = (bytes: number) => {
    const frames = Math.floor(bytes / frameBytes);
    const buffer = current!;
    current = undefined;
    filled = 0;
    if (frames === 0) return giveBack(buffer);
    const firstIndex = nextIndex;
    nextIndex += frames;
    const timestamps = Array.from({ length: frames }, (_, i) => sampledFrameTime(firstIndex + i, options));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      giveBack(buffer);
    };
    chunkLimit = chunkBytes;
    completed.push({
      firstIndex,
      frames,
      timestamps,
      width,
      height,
      data: frames === options.framesPerChunk ? buffer : buffer.subarray(0, frames * frameBytes),
      release,
    });
    wakeConsumer();
  };
  const take = async (piece: Buffer) => {
    let offset = Math.min(leadBytes, piece.length);
    leadBytes -= offset;
    while (offset < piece.length) {
      current ??= await takeBuffer();
      const n = Math.min(chunkLimit - filled, piece.length - offset);
      piece.copy(current, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled === chunkLimit) complete(chunkLimit);
    }
  };
  const sink = new Writable({
    // Pieces queued here are references, not copies; a deep queue spares pausing the pipe per piece.
    highWaterMark: 1 << 20,
    write(piece: Buffer, _encoding, callback) {
      lastData = Date.now();
      take(piece).then(() => callback(), callback);
    },
    final(callback) {
      // A trailing partial frame (truncated output) is dropped; complete frames are kept.
      if (current !== undefined) complete(filled);
      ended = true;
      wakeConsumer();
      callback();
    },
  });
  sink.on('error', () => {
    ended = true;
    wakeConsumer();
  });
  decoding.pipe(sink);

  let finished = false;
  try {
    for (;;) {
      const chunk = completed.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (ended) break;
      await waitForChunk(() => lastData);
    }
    await decoding.finish();
    finished = true;
  } finally {
    if (!finished) decoding.kill();
  }
}

/**
 * Streams the sampled frames of `file` one by one (see extractFrameChunks). With `reuseBuffer`
 * every frame arrives in the same buffer, valid only until the next frame is pulled.
 */
export async function* extractFrames(
  file: string,
  probe: VideoProbe,
  options: SamplingOptions,
): AsyncGenerator<VideoFrame> {
  for await (const chunk of extractFrameChunks(file, probe, {
    ...options,
    framesPerChunk: 1,
    buffers: options.reuseBuffer ? 1 : 0,
  })) {
    yield {
      index: chunk.firstIndex,
      timestamp: chunk.timestamps[0]!,
      width: chunk.width,
      height: chunk.height,
      data: chunk.data,
    };
    chunk.release();
  }
}

/**
 * Starts decoding `file` by the sampling: one ffmpeg that decodes every frame and lets the fps
 * filter pick, or, for samples far apart, one seek per sample (seekIntervalSeconds). rgb24 frames at
 * the working size come out.
 */
async function startDecoding(file: string, probe: VideoProbe, options: SamplingOptions): Promise<Decoding> {
  if (!(options.fps > 0)) throw new FerError('invalid_option', `fps must be > 0, got ${options.fps}`);
  const start = options.startSeconds ?? 0;
  if (start < 0) throw new FerError('invalid_option', `start time must be ≥ 0 s, got ${start}`);
  if (options.endSeconds !== undefined && options.endSeconds <= start) {
    throw new FerError(
      'invalid_option',
      `end time (${options.endSeconds} s) must be after the start time (${start} s)`,
    );
  }
  const { width, height } = workingFrameSize(probe, options.maxSide);
  const segment = options.segment;
  const firstIndex = segment?.firstIndex ?? 0;
  // Frames wanted from here: the video's limit less the frames before the segment, and the segment's own count.
  const limit = Math.min(options.maxFrames ? options.maxFrames - firstIndex : Infinity, segment?.frames ?? Infinity);
  if (limit <= 0)
    throw new FerError('invalid_option', `the segment starting at frame ${firstIndex} is past the frame limit`);
  const containers = options.allowedContainers ?? DEFAULT_ALLOWED_CONTAINERS;
  const end = options.endSeconds ?? probe.durationSeconds ?? undefined;
  // …and no sample at or past the end. Counted rather than cut with -t: ffmpeg rounds -t to the
  // nearest sample slot, which drops the last sample when it lies less than half an interval before
  // the end (a 41 s video at 0.2 frames/s gave 8 of its 9 samples).
  const frameLimit =
    end === undefined
      ? limit
      : Math.max(0, Math.min(limit, expectedFrameCount(end, { ...options, maxFrames: undefined }) - firstIndex));

  if (samplesBySeeking(probe, options) && end !== undefined) {
    const range = { firstIndex, frameLimit, end, containers };
    const sourceTimes = await seekSourceTimes(file, probe, range, options, options.onDecodeError);
    if (sourceTimes !== null) {
      return startSeekDecoding(file, sourceTimes, {
        width,
        height,
        decodeThreads: options.decodeThreads,
        hwaccel: options.hwaccel,
        allowedContainers: containers,
        onDecodeError: options.onDecodeError,
      });
    }
  }

  const leadFrames = firstIndex > 0 ? 1 : 0;
  const seek = segment ? start + (firstIndex - leadFrames) / options.fps : start;
  // No shell; local files and real containers only (media-safety.ts). Spawned directly: a wrapper
  // such as fluent-ffmpeg first runs ffmpeg several times to list its capabilities (measured:
  // ≈100 ms before a process's first video) and guesses at exit races we can simply wait for.
  const args = [...safeInputOptions(containers), '-nostdin', '-nostats', '-loglevel', 'error'];
  // The filters (fps, scale/convert) get the same thread count: ffmpeg otherwise starts one
  // filter thread per core, which on small frames costs more in wake-ups than it saves.
  if (options.decodeThreads)
    args.push('-threads', String(options.decodeThreads), '-filter_threads', String(options.decodeThreads));
  if (options.hwaccel) args.push('-hwaccel', options.hwaccel);
  if (options.decoderSkip === 'loop-filter') args.push('-skip_loop_filter', 'all');
  if (options.decoderSkip === 'non-reference') args.push('-skip_frame', 'noref');
  // Where the container seeks exactly, from the keyframe before `seek`; elsewhere decoded from the
  // start and cut by the filters, which gives the same frames and times (test/producer/seek-sampling.test.ts).
  const exactSeek = seeksExactly(probe);
  if (seek > 0 && exactSeek) args.push('-ss', String(seek));
  const cut = seek > 0 && !exactSeek ? `trim=start=${seek},setpts=PTS-${seek}/TB,` : '';
  // round=up: sample n is the frame on screen at start + n / fps, the time it is recorded at (the
  // fps filter's default, round=near, gives the last frame before start + (n + 0.5) / fps: half a
  // sample late; test/producer/sample-times.test.ts). start_time=0 fills the first slot after a
  // seek even where no frame lies exactly there, so a segment's lead frame is always slot 0.
  args.push(
    '-i',
    safeInput(file),
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `${cut}fps=${options.fps}:round=up:start_time=0,scale=${width}:${height}:flags=area`,
    '-pix_fmt',
    'rgb24',
  );
  // The frame limit also ends the sampling at `end`: round=up would fill the slot at the very end too.
  if (frameLimit < Infinity) args.push('-frames:v', String(frameLimit + leadFrames));
  args.push('-f', 'rawvideo', 'pipe:1');

  const run = startFfmpeg(args, { file, allowedContainers: containers, onDecodeError: options.onDecodeError });
  return {
    width,
    height,
    leadFrames,
    pipe: (sink) => run.stdout.pipe(sink, { end: true }),
    finish: () => run.finish(),
    kill: () => run.kill(),
  };
}
