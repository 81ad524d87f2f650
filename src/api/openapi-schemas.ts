import { ERROR_CODES } from './errors.ts';
import { VIDEO_STATES } from './service.ts';

// The OpenAPI document's component schemas (what the API answers with), kept apart from the
// routes in openapi.ts: the error body, a video's status, the per-video result.

const segment = {
  type: 'object',
  required: ['kind', 'label', 'start', 'end', 'firstFrame', 'lastFrame', 'frames', 'meanProbability'],
  properties: {
    kind: { type: 'string', enum: ['expression', 'no_face', 'failed'] },
    label: { type: 'string', description: 'Expression label, or no_face / failed' },
    start: { type: 'number', description: 'Seconds: timestamp of the first frame' },
    end: { type: 'number', description: 'Seconds: timestamp of the next sampled frame (or last + one frame interval)' },
    firstFrame: { type: 'integer' },
    lastFrame: { type: 'integer' },
    frames: { type: 'integer' },
    meanProbability: { type: 'number', nullable: true },
  },
};

const distribution = {
  type: 'object',
  properties: {
    meanProbability: {
      type: 'object',
      additionalProperties: { type: 'number' },
      description: 'label → mean probability over frames with a face',
    },
    frameShare: {
      type: 'object',
      additionalProperties: { type: 'number' },
      description: 'label → share of frames with a face where it is on top',
    },
  },
};

const dominant = {
  type: 'object',
  nullable: true,
  properties: { label: { type: 'string' }, frameShare: { type: 'number' }, meanProbability: { type: 'number' } },
};

export const componentSchemas = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: Object.keys(ERROR_CODES), description: 'Stable; clients branch on it' },
          message: { type: 'string', description: 'For people: what was wrong, which limit' },
        },
      },
    },
  },
  VideoStatus: {
    type: 'object',
    required: ['id', 'state', 'progress', 'errors'],
    properties: {
      id: { type: 'string' },
      state: { type: 'string', enum: VIDEO_STATES },
      name: { type: 'string', description: 'File name (the upload’s name or the path’s base name)' },
      progress: {
        type: 'object',
        properties: {
          framesExpected: {
            type: 'integer',
            nullable: true,
            description: 'From the probed duration; null before probing',
          },
          framesTotal: { type: 'integer', nullable: true, description: 'Exact, once frame extraction has finished' },
          framesDone: { type: 'integer' },
          framesFailed: { type: 'integer' },
          fraction: { type: 'number', nullable: true },
        },
      },
      errors: {
        type: 'array',
        description: 'Why the video failed (stable code + message); empty otherwise',
        items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
      },
      warnings: {
        type: 'array',
        description:
          'While the video is open: the roles it waits for that no running process has (no producer or worker heartbeat for FER_SERVICE_SEEN_SECONDS)',
        items: { type: 'string' },
      },
      submittedAt: { type: 'string', format: 'date-time' },
      startedAt: { type: 'string', format: 'date-time' },
      completedAt: { type: 'string', format: 'date-time' },
      webhooks: {
        type: 'array',
        description:
          "End-of-video notifications: per endpoint (the submission's callbackUrl, the operator's FER_WEBHOOK_URL) how delivery went",
        items: {
          type: 'object',
          required: ['target', 'state', 'attempts'],
          properties: {
            target: { type: 'string', enum: ['callback', 'configured'] },
            url: { type: 'string', description: "The callbackUrl (not shown for the operator's endpoint)" },
            state: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
            attempts: { type: 'integer' },
            lastError: { type: 'string' },
            deliveredAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  },
  VideoResult: {
    type: 'object',
    description: 'See docs/results.md for every field',
    required: ['schemaVersion', 'videoId', 'labels', 'counts', 'segments', 'frames'],
    properties: {
      schemaVersion: { type: 'integer', enum: [1] },
      videoId: { type: 'string' },
      video: { type: 'object', description: 'Probe of the video file (duration, size, frame rate, rotation, codec …)' },
      model: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          labels: {
            type: 'array',
            items: { type: 'string' },
            description:
              'Canonical expression names (angry, disgust, fear, happy, neutral, sad, surprise) where the model maps onto them',
          },
          modelLabels: {
            type: 'array',
            items: { type: 'string' },
            description: "The model's own labels in its output order (config.json id2label)",
          },
          preprocessing: { type: 'object' },
          detector: { type: 'string', nullable: true },
          identity: {
            type: 'string',
            description: 'The identity model that joined tracks into persons, where one ran',
          },
        },
      },
      labels: { type: 'array', items: { type: 'string' }, description: 'Order of every probability array' },
      processing: {
        type: 'object',
        description: 'Options the video was processed with (fps, start/end, max frames …)',
      },
      aggregation: {
        type: 'object',
        properties: { smoothingWindow: { type: 'integer' }, frameInterval: { type: 'number' } },
      },
      timings: { type: 'object' },
      counts: {
        type: 'object',
        properties: Object.fromEntries(
          [
            'sampled',
            'analysed',
            'failed',
            'withFace',
            'withoutFace',
            'faces',
            'reusedFaces',
            'tracks',
            'persons',
            'decodeErrors',
          ]
            .map((k) => [k, { type: 'integer' }])
            .concat([['faceVisibleShare', { type: 'number' }]]),
        ),
      },
      dominant,
      distribution,
      warnings: {
        type: 'array',
        items: { type: 'string' },
        description: 'Decode damage, failed frames: how far to trust the result',
      },
      cuts: {
        type: 'array',
        description: 'Scene cuts: the first frame of each new shot (no track spans one)',
        items: {
          type: 'object',
          properties: { index: { type: 'integer' }, timestamp: { type: 'number' }, score: { type: 'number' } },
        },
      },
      segments: { type: 'array', items: segment },
      tracks: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            trackId: { type: 'integer' },
            personId: {
              type: 'integer',
              nullable: true,
              description: 'The person this track belongs to; null where identities were not computed',
            },
            firstTimestamp: { type: 'number' },
            lastTimestamp: { type: 'number' },
            frames: { type: 'integer' },
            distribution,
            dominant,
            segments: { type: 'array', items: segment },
            meanDetectorScore: { type: 'number', nullable: true },
          },
        },
      },
      persons: {
        type: 'array',
        description:
          'Persons: tracks of one person joined across cuts and gaps by face identity, in order of first appearance; empty where identities were not computed',
        items: {
          type: 'object',
          properties: {
            personId: { type: 'integer' },
            trackIds: { type: 'array', items: { type: 'integer' } },
            firstTimestamp: { type: 'number' },
            lastTimestamp: { type: 'number' },
            frames: { type: 'integer' },
            screenTimeSeconds: { type: 'number', description: 'frames × the sampling interval' },
            distribution,
            dominant,
            segments: { type: 'array', items: segment },
            meanDetectorScore: { type: 'number', nullable: true },
          },
        },
      },
      frames: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            index: { type: 'integer' },
            timestamp: { type: 'number' },
            probabilities: { type: 'array', items: { type: 'number' }, nullable: true },
            label: { type: 'string', nullable: true },
            error: { type: 'string' },
            faces: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  box: {
                    type: 'object',
                    properties: {
                      x: { type: 'number' },
                      y: { type: 'number' },
                      width: { type: 'number' },
                      height: { type: 'number' },
                    },
                  },
                  detectorScore: { type: 'number', nullable: true },
                  landmarks: {
                    type: 'array',
                    items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
                    description: 'Detector keypoints in video pixels, where given',
                  },
                  trackId: { type: 'integer', nullable: true },
                  personId: { type: 'integer', nullable: true },
                  reused: {
                    type: 'boolean',
                    enum: [true],
                    description:
                      "An earlier sampled frame's classification of this face: the face had not changed, and its next classification gave the same label (FER_REUSE_MAX_FRAMES)",
                  },
                  probabilities: { type: 'array', items: { type: 'number' } },
                  label: { type: 'string' },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;
