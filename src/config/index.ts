import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { apiEnv, apiSchema } from './api.ts';
import { pickEnv } from './env.ts';
import { facesEnv, facesSchema } from './faces.ts';
import { inferenceEnv, inferenceSchema } from './inference.ts';
import { metricsEnv, metricsSchema } from './metrics.ts';
import { pipelineEnv, pipelineSchema } from './pipeline.ts';
import { profileEnv, profileSchema } from './profile.ts';

/**
 * The one typed, validated configuration of every fer-stream process. Sources, lowest priority
 * first: schema defaults, environment variables, explicit overrides (CLI flags). Each section
 * lives in its own file beside this one; every knob is documented in docs/configuration.md.
 */
const topSchema = z.object({
  redisUrl: z.string().url().default('redis://127.0.0.1:6379'),
  /**
   * Redis Sentinel: `host:port` of each sentinel; set, every connection asks them for the master of redisSentinelName
   * (REDIS_URL then gives only credentials and database).
   */
  redisSentinels: z
    .string()
    .regex(/^\s*[^\s,:]+:\d+\s*(,\s*[^\s,:]+:\d+\s*)*$/, 'expected host:port,host:port')
    .optional(),
  redisSentinelName: z.string().min(1).default('mymaster'),
  /**
   * Redis Cluster: `host:port` of some of its nodes; set, every connection is a cluster client (REDIS_URL then gives
   * only credentials).
   */
  redisCluster: z
    .string()
    .regex(/^\s*[^\s,]+:\d+\s*(,\s*[^\s,]+:\d+\s*)*$/, 'expected host:port,host:port')
    .optional(),
  /** Prefix of every Redis key fer-stream writes (BullMQ queues and frame data). */
  redisPrefix: z.string().min(1).default('fer'),
  /** Installed model directories (classifiers and detectors). */
  modelsDir: z
    .string()
    .min(1)
    .default(path.join(os.homedir(), '.cache', 'fer-stream', 'models')),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

const topEnv = {
  redisUrl: 'REDIS_URL',
  redisSentinels: 'FER_REDIS_SENTINELS',
  redisSentinelName: 'FER_REDIS_SENTINEL_NAME',
  redisCluster: 'FER_REDIS_CLUSTER',
  redisPrefix: 'FER_REDIS_PREFIX',
  modelsDir: 'FER_MODELS_DIR',
  logLevel: 'LOG_LEVEL',
} as const;

export const configSchema = topSchema.extend({
  inference: inferenceSchema,
  faces: facesSchema,
  api: apiSchema,
  metrics: metricsSchema,
  pipeline: pipelineSchema,
  models: profileSchema,
});

export type Config = z.infer<typeof configSchema>;

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};
export type ConfigOverrides = DeepPartial<Config>;

/** Each section of the configuration ('' for the top level) and the environment variable of each of its keys. */
export const CONFIG_SECTIONS = [
  ['', topEnv],
  ['inference', inferenceEnv],
  ['faces', facesEnv],
  ['api', apiEnv],
  ['metrics', metricsEnv],
  ['pipeline', pipelineEnv],
  ['models', profileEnv],
] as const satisfies ReadonlyArray<readonly ['' | keyof Config, Readonly<Record<string, string>>]>;

/** Every environment variable the configuration reads (docs/configuration.md has a row for each: a test checks). */
export const CONFIG_ENV_VARS: readonly string[] = CONFIG_SECTIONS.flatMap(([, env]) => Object.values(env) as string[]);

/**
 * The settings an operator is likely to change (the README's short table; `fer-stream config` shows
 * these unless --all). The rest are advanced: their defaults fit most deployments, and
 * docs/configuration.md marks them so.
 */
export const OPERATOR_SETTINGS: readonly string[] = [
  // where things are
  'REDIS_URL',
  'FER_REDIS_SENTINELS',
  'FER_REDIS_CLUSTER',
  'FER_REDIS_PREFIX',
  'FER_MODELS_DIR',
  'LOG_LEVEL',
  // what runs the models
  'FER_PROFILE',
  'FER_EXECUTION_PROVIDERS',
  'FER_INTRA_OP_THREADS',
  'FER_MAX_BATCH_SIZE',
  'FER_MODEL_VARIANT',
  'FER_DETECT',
  'FER_PERSONS',
  // sampling, decoding, sizes and limits
  'FER_FPS',
  'FER_FRAME_MAX_SIDE',
  'FER_DECODE_HWACCEL',
  'FER_SEGMENT_SECONDS',
  'FER_DECODE_SEEK_SECONDS',
  'FER_REDIS_FRAME_BUDGET_BYTES',
  'FER_MAX_DURATION_SECONDS',
  'FER_MAX_FILE_BYTES',
  'FER_RESULT_TTL_SECONDS',
  // services
  'FER_WORKER_CONCURRENCY',
  'FER_PRODUCER_CONCURRENCY',
  'FER_STOP_TIMEOUT_MS',
  'FER_SERVICE_SEEN_SECONDS',
  'FER_METRICS_ENABLED',
  'FER_METRICS_PORT',
  // the API and what it tells
  'FER_API_HOST',
  'FER_API_PORT',
  'FER_API_TOKENS',
  'FER_API_AUTH',
  'FER_API_RATE_LIMIT',
  'FER_UPLOAD_DIR',
  'FER_MAX_UPLOAD_BYTES',
  'FER_INPUT_DIR',
  'FER_WEBHOOK_URL',
  'FER_WEBHOOK_SECRET',
];

/** Builds and validates the configuration; throws one error listing every invalid knob. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const raw = {
    ...pickEnv(env, topEnv),
    ...stripUndefined(overrides),
    inference: { ...pickEnv(env, inferenceEnv), ...stripUndefined(overrides.inference ?? {}) },
    faces: { ...pickEnv(env, facesEnv), ...stripUndefined(overrides.faces ?? {}) },
    api: { ...pickEnv(env, apiEnv), ...stripUndefined(overrides.api ?? {}) },
    metrics: { ...pickEnv(env, metricsEnv), ...stripUndefined(overrides.metrics ?? {}) },
    pipeline: { ...pickEnv(env, pipelineEnv), ...stripUndefined(overrides.pipeline ?? {}) },
    models: { ...pickEnv(env, profileEnv), ...stripUndefined(overrides.models ?? {}) },
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  if (parsed.data.redisCluster && parsed.data.redisSentinels) {
    throw new Error(
      'invalid configuration: redisCluster: FER_REDIS_CLUSTER and FER_REDIS_SENTINELS exclude each other (a Redis Cluster fails over by itself)',
    );
  }
  return parsed.data;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined && (typeof v !== 'object' || Array.isArray(v))),
  ) as Partial<T>;
}

export type { InferenceConfig } from './inference.ts';
export type { FacesConfig } from './faces.ts';
export type { ApiConfig } from './api.ts';
export type { MetricsConfig } from './metrics.ts';
export type { PipelineConfig } from './pipeline.ts';
export type { ProfileConfig } from './profile.ts';
