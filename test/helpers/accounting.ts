import { expect } from 'vitest';
import type { Pipeline } from '../../src/pipeline/index.ts';
import { checkAccounting } from './frame-accounting.ts';

/** Asserts the exact frame accounting (./frame-accounting.ts) and returns the totals. */
export async function expectExactAccounting(
  pipeline: Pipeline,
  expected: ReadonlyArray<{ videoId: string; frames: number }>,
): Promise<{ analysed: number; failed: number }> {
  const { analysed, failed, problems } = await checkAccounting(pipeline, expected);
  expect(problems).toEqual([]);
  return { analysed, failed };
}
