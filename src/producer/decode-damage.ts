// Which of ffmpeg's stderr lines (at -loglevel error) report damage in the video stream, for every
// codec it reports it for. Each video decoder writes its complaints under its own context name
// ("[h264 @ 0x…] error while decoding MB 3 7"); MPEG-1/2 says "skipped MB in I-frame",
// "ac-tex damaged", "invalid cbp", "Invalid mb type", "mb incr damaged", "end mismatch", "slice
// mismatch"; H.264 "error while decoding MB", "Reference 3 >= 2", "decode_slice_header error";
// HEVC "Could not find ref with POC", "Invalid number of merging MVP candidates"; VP9 "Invalid
// frame marker" (all collected by corrupting real encodes, see test/producer/decode-damage.test.ts).
// A phrase list per codec missed whole families (MPEG-1's "skipped MB" counted as 0 errors), so
// any decoder line counts, except the error-concealment notes that follow one ("concealing …",
// "Warning MVs not available"). Container-level damage (no decoder context) counts by phrase.

/** Context names of ffmpeg's video decoders (and their parsers, which print as NULL or the codec). */
const VIDEO_DECODER =
  /^\[(?:h26[345]|hevc|mpeg[124]video|mpegvideo|mpeg4|msmpeg4\w*|vp[89]|libvpx\w*|av1|libdav1d|mjpeg|theora|vc1|wmv\d|prores|dvvideo|flv|ffv1|cinepak|rv\d\d) @ [^\]]*\] /;
/** What the decoders print after a damaged slice while hiding it: the damage was already counted. */
const CONCEALMENT_NOTE = /concealing|Warning MVs not available|Last message repeated/i;
/** Damage reported outside a decoder's context (ffmpeg's own summary, demuxers, parsers). */
const STREAM_DAMAGE =
  /error while decoding|Invalid NAL|corrupt|missing picture|Error splitting|Invalid data found|illegal|Header missing/i;
/** ffmpeg collapses repeated lines into "Last message repeated N times". */
const REPEATED = /Last message repeated (\d+) times?/;

/**
 * Counts damage reports in ffmpeg's stderr, line by line. "Last message repeated N times" after a
 * counted line counts N more.
 */
export class DecodeDamageCounter {
  private lastCounted = false;
  count = 0;

  /** Reads one line; returns how many damage reports it adds (0 for anything else). */
  add(line: string): number {
    const repeated = REPEATED.exec(line);
    if (repeated) {
      const more = this.lastCounted ? Number(repeated[1]) : 0;
      this.count += more;
      return more;
    }
    const damage = isDecodeDamage(line);
    this.lastCounted = damage;
    if (damage) this.count += 1;
    return damage ? 1 : 0;
  }
}

/** Whether one stderr line of ffmpeg reports damage in the video stream. */
export function isDecodeDamage(line: string): boolean {
  const text = line.trim();
  if (CONCEALMENT_NOTE.test(text)) return false;
  return VIDEO_DECODER.test(text) || STREAM_DAMAGE.test(text);
}
