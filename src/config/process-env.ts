// The environment variables read outside the typed configuration (index.ts): those a process needs
// before or without loading it — how it logs, where ffmpeg is, whether a Redis was named — and the
// one a command sets for itself (its private Redis's URL). With the configuration's sections, the
// only place that knows environment variable names (test/architecture.test.ts holds that).

import { CONFIG_SECTIONS } from './index.ts';

type Env = NodeJS.ProcessEnv;

export interface LogEnvironment {
  /** LOG_LEVEL when set: each kind of process has its own default (services info, commands warn). */
  readonly level: string | undefined;
  /** FER_LOG_FORMAT=json: a one-shot command writes pino's JSON lines instead of human ones. */
  readonly json: boolean;
  /** Services' human-readable lines: on a terminal, and never under CI (its logs are files). */
  readonly pretty: boolean;
}

export function logEnvironment(env: Env = process.env, stdout: { isTTY?: boolean } = process.stdout): LogEnvironment {
  return {
    level: env.LOG_LEVEL || undefined,
    json: env.FER_LOG_FORMAT === 'json',
    pretty: stdout.isTTY === true && env.CI !== 'true',
  };
}

export interface MediaToolEnvironment {
  /** FFMPEG_PATH / FFPROBE_PATH: the executables to use, whatever PATH holds. */
  readonly ffmpeg: string | undefined;
  readonly ffprobe: string | undefined;
  /** PATH's folders, in order. */
  readonly searchPath: readonly string[];
}

export function mediaToolEnvironment(env: Env = process.env, delimiter = ':'): MediaToolEnvironment {
  return {
    ffmpeg: env.FFMPEG_PATH || undefined,
    ffprobe: env.FFPROBE_PATH || undefined,
    searchPath: (env.PATH ?? '').split(delimiter).filter(Boolean),
  };
}

/** Whether a Redis is named (REDIS_URL, FER_REDIS_SENTINELS or FER_REDIS_CLUSTER): then no private one starts. */
export function redisNamed(env: Env = process.env): boolean {
  return Boolean(env.REDIS_URL || env.FER_REDIS_SENTINELS || env.FER_REDIS_CLUSTER);
}

/** Points this process's later loadConfig() at `url` (a command's private Redis); returns the undo. */
export function useRedisUrl(url: string, env: Env = process.env): () => void {
  env.REDIS_URL = url;
  return () => {
    delete env.REDIS_URL;
  };
}

/**
 * The environment's value of the setting at `path` ('api.host', 'metrics.enabled', 'logLevel'), or
 * undefined when unset — for a command whose default differs from the services' unless asked.
 */
export function settingInEnvironment(path: string, env: Env = process.env): string | undefined {
  const dot = path.lastIndexOf('.');
  const [section, key] = dot < 0 ? ['', path] : [path.slice(0, dot), path.slice(dot + 1)];
  const names = CONFIG_SECTIONS.find(([name]) => name === section)?.[1] as Readonly<Record<string, string>> | undefined;
  const name = names?.[key];
  if (name === undefined) throw new Error(`no setting ${path} in the configuration`);
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
