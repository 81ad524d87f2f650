// Lua scripts: each one makes a multi-key update atomic, so concurrent producers and workers on
// many machines keep exact totals (held frame bytes, frames done) without locks.

/**
 * Reserves room for a chunk in its shard's share of the frame budget. KEYS: heldChunks, heldBytes,
 * heldFrames (of the chunk's shard). ARGV: chunkKey, bytes, frames, budget, nowMs. Returns {reserved (0/1), heldBytes,
 * heldFrames}.
 * A chunk already reserved (a producer retrying a video) is not counted twice.
 */
export const RESERVE_CHUNK = `
local heldBytes = tonumber(redis.call('GET', KEYS[2]) or '0')
local heldFrames = tonumber(redis.call('GET', KEYS[3]) or '0')
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {1, heldBytes, heldFrames} end
local bytes = tonumber(ARGV[2])
if heldBytes + bytes > tonumber(ARGV[4]) then return {0, heldBytes, heldFrames} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[5])
heldBytes = redis.call('INCRBY', KEYS[2], bytes)
heldFrames = redis.call('INCRBY', KEYS[3], tonumber(ARGV[3]))
return {1, heldBytes, heldFrames}
`;

/** Shared by the scripts below: removes a chunk and takes it out of the held totals (once). */
const RELEASE = `
local function release(heldChunks, heldBytes, heldFrames, chunkKey)
  local entry = redis.call('HGET', heldChunks, chunkKey)
  if entry then
    redis.call('HDEL', heldChunks, chunkKey)
    local bytes, frames = string.match(entry, '^(%d+):(%d+)')
    redis.call('DECRBY', heldBytes, tonumber(bytes))
    redis.call('DECRBY', heldFrames, tonumber(frames))
  end
  redis.call('DEL', chunkKey)
end
`;

/**
 * Stores frame results. KEYS: video, videoFrames, activeVideos. ARGV: modelJson, onlyMissing
 * (0/1: keep results already stored), nowMs (progress time), videoId, then triples (index,
 * resultJson, failed 0/1). Returns {framesDone, complete (0/1), videoExists (0/1)}. The chunk the
 * results came from is released afterwards (RELEASE_CHUNK, in its own shard's slot): a chunk
 * disappears only once its results are stored.
 */
export const RECORD_FRAMES = `
local exists = redis.call('EXISTS', KEYS[1])
local state = redis.call('HGET', KEYS[1], 'state')
-- A finished (completed, failed, cancelled) video takes no more results.
if exists == 0 or state == 'completed' or state == 'failed' then return {0, 0, exists} end
if ARGV[1] ~= '' then redis.call('HSETNX', KEYS[1], 'model', ARGV[1]) end
local failed = 0
local write = 'HSET'
if ARGV[2] == '1' then write = 'HSETNX' end
for i = 5, #ARGV, 3 do
  local added = redis.call(write, KEYS[2], ARGV[i], ARGV[i + 1])
  if added == 1 and ARGV[i + 2] == '1' then failed = failed + 1 end
end
if failed > 0 then redis.call('HINCRBY', KEYS[1], 'framesFailed', failed) end
redis.call('ZADD', KEYS[3], 'XX', ARGV[3], ARGV[4])
local done = redis.call('HLEN', KEYS[2])
redis.call('HSET', KEYS[1], 'framesDone', done)
local total = redis.call('HGET', KEYS[1], 'framesTotal')
local complete = 0
if total and tonumber(total) <= done and state == 'processing' then complete = 1 end
return {done, complete, 1}
`;

/**
 * Deletes one chunk and takes it out of its shard's held totals (once). KEYS: heldChunks, heldBytes, heldFrames,
 * chunkKey.
 */
export const RELEASE_CHUNK = `${RELEASE}
release(KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return 1
`;

/**
 * The producer has enqueued every frame. KEYS: video, videoFrames. ARGV: framesTotal, chunks.
 * Returns 1 when every frame is already done (the video is ready to aggregate).
 */
export const MARK_PRODUCED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'completed' or state == 'failed' then return 0 end
redis.call('HSET', KEYS[1], 'framesTotal', ARGV[1], 'framesProduced', ARGV[1], 'chunks', ARGV[2], 'state', 'processing')
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[1]) then return 1 end
return 0
`;

/**
 * One segment of a video split across producers has enqueued every frame. KEYS: video,
 * videoFrames. ARGV: segment, segments, frames. When every segment has, the video's total is their
 * sum and it moves to processing. Returns 1 when that made it complete (every frame already done).
 */
export const MARK_SEGMENT_PRODUCED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'completed' or state == 'failed' then return 0 end
redis.call('HSET', KEYS[1], 'segmentFrames:' .. ARGV[1], ARGV[3], 'segmentProduced:' .. ARGV[1], ARGV[3])
local total = 0
for i = 0, tonumber(ARGV[2]) - 1 do
  local frames = redis.call('HGET', KEYS[1], 'segmentFrames:' .. i)
  if not frames then return 0 end
  total = total + tonumber(frames)
end
redis.call('HSET', KEYS[1], 'framesTotal', total, 'framesProduced', total, 'state', 'processing')
if redis.call('HLEN', KEYS[2]) >= total then return 1 end
return 0
`;

/**
 * Releases every held chunk of one video in one shard (it finished or failed: nothing will read
 * them). KEYS: heldChunks, heldBytes, heldFrames. ARGV: the video's chunk key prefix in that shard. Returns the number
 * released.
 */
export const RELEASE_VIDEO_CHUNKS = `${RELEASE}
local entries = redis.call('HKEYS', KEYS[1])
local released = 0
local prefix = ARGV[1]
for _, key in ipairs(entries) do
  if string.sub(key, 1, #prefix) == prefix then
    release(KEYS[1], KEYS[2], KEYS[3], key)
    released = released + 1
  end
end
return released
`;

/**
 * Records progress of an unfinished video (the recovery sweep's clock). KEYS: activeVideos,
 * video. ARGV: videoId, nowMs. Finished videos are not re-added.
 */
export const TOUCH_VIDEO = `
local state = redis.call('HGET', KEYS[2], 'state')
if state == false or state == 'completed' or state == 'failed' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`;

/**
 * Submission with a deadline, on Redis's own clock (the API answers 503 when Redis is slower than
 * its timeout, and a submission it did not acknowledge must never run). KEYS: video, videoIndex,
 * activeVideos. ARGV: mode, videoId, then per mode:
 * - 'create' acceptByMs, sweepAtScore, field/value pairs: creates the record, not yet accepted (nor
 *   listed), due by acceptByMs; refused (0) when Redis runs it after that already.
 * - 'confirm': accepts it when still within its deadline, else deletes it. Returns 1 when accepted.
 * - 'expire': deletes it when past its deadline and never accepted (producers call this). Returns
 *   1 when accepted, 0 when deleted, -1 while still within the deadline.
 */
export const ACCEPT_VIDEO = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mode = ARGV[1]
local function drop()
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
end
if mode == 'create' then
  -- Arrived after its deadline (Redis was hung): the caller has given up already; create nothing.
  if now > tonumber(ARGV[3]) then return 0 end
  local fields = {}
  for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', KEYS[1], 'accepted', '0', 'acceptBy', ARGV[3], unpack(fields))
  -- Scored so that the recovery sweep looks at it shortly after its deadline, should no confirmation come.
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
  return 1
end
local accepted = redis.call('HGET', KEYS[1], 'accepted')
if accepted == false then return 0 end
if accepted == '1' then return 1 end
local due = tonumber(redis.call('HGET', KEYS[1], 'acceptBy') or '0')
if mode == 'confirm' then
  if now <= due then
    redis.call('HSET', KEYS[1], 'accepted', '1')
    redis.call('ZADD', KEYS[2], now, ARGV[2])
    redis.call('ZADD', KEYS[3], now, ARGV[2])
    return 1
  end
  drop()
  return 0
end
if now <= due then return -1 end
drop()
return 0
`;

/**
 * Releases chunks whose value is gone (expired before any worker took it) but that are still
 * counted as held; entries younger than ARGV[1] ms (reserved, not yet written) are left alone.
 * KEYS: heldChunks, heldBytes, heldFrames. ARGV: minAgeMs, nowMs. Returns the number released.
 */
export const RECONCILE_HELD = `${RELEASE}
local entries = redis.call('HGETALL', KEYS[1])
local released = 0
for i = 1, #entries, 2 do
  local key, entry = entries[i], entries[i + 1]
  local reservedAt = tonumber(string.match(entry, ':(%d+)$') or '0')
  if redis.call('EXISTS', key) == 0 and tonumber(ARGV[2]) - reservedAt > tonumber(ARGV[1]) then
    release(KEYS[1], KEYS[2], KEYS[3], key)
    released = released + 1
  end
end
return released
`;

/**
 * Updates fields of a video that is still open: never of one completed or failed (a producer job
 * run again after losing its lock must not move a finished video back to "producing"), and
 * records that as progress in the active set (if listed there). KEYS: video, activeVideos.
 * ARGV: videoId, nowMs, then field/value pairs. Returns 1 when applied, 0 when finished or gone.
 */
export const UPDATE_OPEN_VIDEO = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'completed' or state == 'failed' then return 0 end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
return 1
`;
