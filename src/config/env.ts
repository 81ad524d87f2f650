import { z } from 'zod';

// Helpers shared by the configuration sections: environment variables arrive as strings.

/** Boolean from an environment string: 1/true/yes/on and 0/false/no/off, case-insensitive. */
export const envBoolean = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
}, z.boolean());

/** Comma-separated list from an environment string (already-parsed arrays pass through). */
export function envList<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : value,
    z.array(item),
  );
}

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
export const num = (min: number, max = Number.MAX_VALUE) => z.coerce.number().min(min).max(max);

/**
 * Maps environment variables onto a section's keys: `{ maxBatchSize: 'FER_MAX_BATCH_SIZE' }`.
 * Only variables that are set are copied, so the schema's defaults apply to the rest.
 */
export function pickEnv(env: NodeJS.ProcessEnv, mapping: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, name] of Object.entries(mapping)) {
    const value = env[name];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}
