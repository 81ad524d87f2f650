// Types shared by every layer. Nothing here imports from elsewhere in src/.

/** Interleaved 8-bit RGB pixels (row-major, 3 bytes per pixel), as ffmpeg's rgb24 and sharp's raw output. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Axis-aligned box in pixels of the image it was found in: top-left corner plus size. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A face found by a detector, before classification. */
export interface Detection {
  readonly box: Box;
  readonly score: number;
  /** Five landmarks (right eye, left eye, nose tip, right/left mouth corner) when the detector gives them. */
  readonly landmarks?: ReadonlyArray<readonly [number, number]>;
}

/** Probabilities over a model's labels (same order as `ModelInfo.labels`), summing to 1. */
export interface Classification {
  readonly probabilities: readonly number[];
  readonly label: string;
  readonly labelIndex: number;
}

/** One face of one frame, classified. In whole-frame mode the "face" is the whole frame, with a null score. */
export interface FaceResult extends Classification {
  readonly box: Box;
  readonly detectorScore: number | null;
  /** Assigned by the per-video tracker during aggregation; absent before that. */
  readonly trackId?: number;
  /** Assigned at aggregation where faces carry identities: tracks of one person share it (results/persons.ts). */
  readonly personId?: number;
  /**
   * Identity descriptor of the face (core/face-identity.ts: 128 integers), where the analyzer computes one; not kept in
   * results.
   */
  readonly identity?: readonly number[];
  /** Colour histogram of the face (core/colour-signature.ts): the tracker joins only faces that look alike. */
  readonly appearance?: readonly number[];
  /** The detector's keypoints (eyes, nose, mouth corners) in the same pixels as `box`, where it gives them. */
  readonly landmarks?: ReadonlyArray<readonly [number, number]>;
  /**
   * The classification is an earlier sampled frame's: the face had not changed, and its next classification agreed
   * (FER_REUSE_MAX_FRAMES).
   */
  readonly reused?: true;
}

/** What a worker's model pipeline says about one frame. `faces` is empty when no face was found. */
export interface FrameAnalysis {
  readonly faces: readonly FaceResult[];
}

/** Describes the models behind results, stored alongside them so results stay interpretable. */
export interface ModelInfo {
  readonly name: string;
  /**
   * The labels every probability vector follows: the canonical expressions (core/expressions.ts) where the model's map
   * onto them.
   */
  readonly labels: readonly string[];
  /** The model's own labels in its output order (config.json id2label), where they differ from `labels`. */
  readonly modelLabels?: readonly string[];
  readonly preprocessing: Readonly<Record<string, unknown>>;
  readonly detector?: string | null;
  /** The identity model that joins tracks into persons, where one ran. */
  readonly identity?: string;
  readonly executionProvider?: string;
  /** The model file that ran, and why (FER_MODEL_VARIANT=auto). */
  readonly variant?: { readonly file: string; readonly reason?: string };
}

/**
 * The worker's model stage: frame in, faces with expressions out. Implementations: whole-frame
 * classification (inputs that are already face crops) and detect-then-classify.
 */
export interface FrameAnalyzer {
  readonly info: ModelInfo;
  analyze(frame: RgbImage): Promise<FrameAnalysis>;
  /**
   * Consecutive sampled frames of one video, in order (a chunk), one outcome per frame: analysers
   * that carry work over from frame to frame (reused classifications) implement it; the worker
   * calls analyze() per frame otherwise.
   */
  analyzeSequence?(frames: readonly RgbImage[]): Promise<Array<PromiseSettledResult<FrameAnalysis>>>;
  close(): Promise<void>;
}

/**
 * A frame's colour signature (computed by core/colour-signature.ts): scene cuts are found by comparing consecutive
 * ones.
 */
export interface FrameSignature {
  /** 64 counts: pixels per (r>>6, g>>6, b>>6) bin, over a grid of sampled pixels. */
  readonly histogram: readonly number[];
  /** 8×8 mean brightness (0..255), row-major. */
  readonly thumbnail: readonly number[];
}

/** The stored result of one sampled frame of a video. */
export interface FrameResult {
  /** 0-based index among the sampled frames of the video. */
  readonly index: number;
  /** Presentation timestamp in seconds from the start of the video. */
  readonly timestamp: number;
  readonly faces: readonly FaceResult[];
  /** Set when the frame could not be analysed; `faces` is then empty. */
  readonly error?: string;
  /**
   * Colour signature of the whole frame (core/colour-signature.ts): scene cuts are found by comparing consecutive
   * frames'.
   */
  readonly signature?: FrameSignature;
}
