import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

// Tests that need the real models, photos and videos in ../shared read them through FER_SHARED_DIR
// (default: ../shared beside the checkout). Where it is missing they skip and say so; with
// FER_REQUIRE_SHARED=1 (set by .ci/run) a missing shared/ fails instead.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const sharedDir = path.resolve(repoRoot, process.env.FER_SHARED_DIR ?? '../shared');
export const sharedAvailable = existsSync(path.join(sharedDir, 'fixtures'));

export function sharedPath(...parts: string[]): string {
  return path.join(sharedDir, ...parts);
}

/** `describe` for suites that need ../shared: skipped with a message where it is absent, failing in CI. */
export function describeWithShared(name: string, body: () => void): void {
  describeRequiring(name, body, {
    available: sharedAvailable,
    failWhenMissing: process.env.FER_REQUIRE_SHARED === '1',
    missing: `FER_REQUIRE_SHARED=1 but the shared data directory ${sharedDir} is missing (set FER_SHARED_DIR)`,
    skip: `shared data directory ${sharedDir} not found: it holds the real models, photos and videos these tests read (set FER_SHARED_DIR to run it)`,
  });
}

/**
 * `describe` for suites that need something this machine may lack: runs it when available;
 * otherwise fails (CI) or skips with one line that says what to install or set.
 */
export function describeRequiring(
  name: string,
  body: () => void,
  need: { available: boolean; failWhenMissing: boolean; missing: string; skip: string },
): void {
  if (need.available) {
    describe(name, body);
    return;
  }
  if (need.failWhenMissing) {
    describe(name, () => {
      throw new Error(need.missing);
    });
    return;
  }
  console.warn(`[skip] "${name}": ${need.skip}`);
  describe.skip(name, body);
}
