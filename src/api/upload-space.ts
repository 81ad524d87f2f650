import { statfs } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { ApiError } from './errors.ts';

// Uploads land on one volume (FER_UPLOAD_DIR), shared by every API replica, read by the producers
// and holding the annotated copies. Filled up, it would fail every upload half-way with a write
// error — and the renders with it. So the API keeps a floor of free space (FER_UPLOAD_MIN_FREE_BYTES):
// an upload whose declared length would take the volume under it is refused before its body is read,
// and one arriving while the volume goes under it is refused there (checked every few MiB on the
// volume itself, so what other replicas write counts too). Either way: 507, nothing kept.

/** Bytes an unprivileged writer can still use on the volume holding `dir`. */
export type FreeBytes = (dir: string) => Promise<number>;

export const volumeFreeBytes: FreeBytes = async (dir) => {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
};

export interface UploadSpace {
  readonly dir: string;
  /** Free bytes an upload must leave on the volume; 0 = only a full volume refuses. */
  readonly minFreeBytes: number;
  readonly freeBytes: FreeBytes;
  /** Bytes this process has let in (declared lengths, copies being rendered) and not written yet. */
  readonly promised: { bytes: number };
}

/** Room let in by ensureRoom: counted against the floor until written (`written`) or given back (`release`). */
export interface Reservation {
  written(bytes: number): void;
  release(): void;
}

/** How often the free space is looked at while an upload arrives: at most this much can go under the floor. */
export const CHECK_EVERY_BYTES = 4 * 1024 * 1024;

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;
const floorText = (space: UploadSpace) =>
  space.minFreeBytes > 0 ? `, and ${mb(space.minFreeBytes)} are kept free (FER_UPLOAD_MIN_FREE_BYTES)` : '';

/**
 * Before writing: would `expectedBytes` (an upload's declared length, 0 when unknown; an annotated
 * copy's estimate) take the volume under the floor? `what` names the write in the refusal.
 */
export async function ensureRoom(space: UploadSpace, expectedBytes: number, what = 'an upload'): Promise<Reservation> {
  const free = await space.freeBytes(space.dir);
  // What earlier writes of this process were let in for and have not written yet counts as used:
  // two uploads arriving together cannot both take the same room.
  const promised = space.promised.bytes;
  if (free - promised - expectedBytes >= space.minFreeBytes) return reserve(space, expectedBytes);
  const why =
    expectedBytes > 0
      ? `${what} of ${mb(expectedBytes)} does not fit: the upload volume has ${mb(free)} free`
      : `the upload volume has ${mb(free)} free`;
  const others = promised > 0 ? ` (${mb(promised)} of it promised to uploads still arriving)` : '';
  throw new ApiError('insufficient_storage', `${why}${others}${floorText(space)}; try again later`);
}

function reserve(space: UploadSpace, bytes: number): Reservation {
  let left = bytes;
  space.promised.bytes += left;
  const take = (n: number) => {
    const taken = Math.min(left, n);
    left -= taken;
    space.promised.bytes -= taken;
  };
  return { written: take, release: () => take(left) };
}

/** A pass-through for the upload's bytes that fails with 507 once the volume is under the floor. */
export function watchSpace(space: UploadSpace, reservation: Reservation): Transform {
  let sinceCheck = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      reservation.written(chunk.length);
      sinceCheck += chunk.length;
      if (sinceCheck < CHECK_EVERY_BYTES) return callback(null, chunk);
      sinceCheck = 0;
      space.freeBytes(space.dir).then(
        (free) => {
          if (free >= space.minFreeBytes) return callback(null, chunk);
          callback(
            new ApiError(
              'insufficient_storage',
              `the upload volume ran down to ${mb(free)} free while this upload arrived${floorText(space)}; nothing was kept, try again later`,
            ),
          );
        },
        (error: unknown) => callback(error as Error),
      );
    },
  });
}

/** A write that failed because the volume (or the writer's quota) is full. */
export function isVolumeFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export function volumeFull(cause: unknown): ApiError {
  return new ApiError('insufficient_storage', 'the upload volume is full: nothing was kept, try again later', {
    cause,
  });
}
