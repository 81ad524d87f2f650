// The effective settings of this environment, each with where its value came from, for
// `fer-stream config`: what an operator checks first when a process does not do what they set.
// Secrets never leave masked: API tokens, the webhook secret, a password inside a Redis URL.

import { CONFIG_SECTIONS, loadConfig, OPERATOR_SETTINGS } from './index.ts';

export interface EffectiveSetting {
  /** The environment variable that sets it. */
  readonly name: string;
  /** Where it lives in the typed configuration: `pipeline.fps`, `redisUrl`. */
  readonly path: string;
  /** Its value as the processes use it (secrets masked), lists joined with commas. */
  readonly value: string;
  readonly source: 'default' | 'environment';
  /** Not among the operator-facing settings (OPERATOR_SETTINGS): its default fits most deployments. */
  readonly advanced: boolean;
}

const SECRET_NAME = /TOKENS?$|SECRET$|PASSWORD$/;

/** Every setting of the configuration in `env`, in section order. Throws as loadConfig does for invalid values. */
export function effectiveSettings(env: NodeJS.ProcessEnv = process.env): EffectiveSetting[] {
  const config = loadConfig(env);
  const settings: EffectiveSetting[] = [];
  for (const [section, names] of CONFIG_SECTIONS) {
    const values = (section === '' ? config : config[section]) as Record<string, unknown>;
    for (const [key, name] of Object.entries(names)) {
      const raw = values[key];
      settings.push({
        name,
        path: section === '' ? key : `${section}.${key}`,
        value: mask(name, raw === undefined ? '' : Array.isArray(raw) ? raw.join(',') : String(raw)),
        source: env[name] !== undefined && env[name] !== '' ? 'environment' : 'default',
        advanced: !OPERATOR_SETTINGS.includes(name),
      });
    }
  }
  return settings;
}

function mask(name: string, value: string): string {
  if (value === '') return value;
  if (SECRET_NAME.test(name))
    return name === 'FER_API_TOKENS'
      ? value
          .split(',')
          .map((entry) => `${entry.split(':')[0]}:****`)
          .join(',')
      : '****';
  // user:password@ in a URL (REDIS_URL): the password goes.
  return value.replace(/(\/\/[^/:@]*):[^@/]*@/, '$1:****@');
}
