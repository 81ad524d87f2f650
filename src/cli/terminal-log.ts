// Logs of one-shot commands (analyze, classify, eval, models fit-head): one human line per record —
// "warn worker: chunk 3 of talk.mp4 failed (reason=…)" — on a terminal printed through the
// progress display so it never lands on the bars, elsewhere on stderr; pino's JSON lines, as
// services log, only when FER_LOG_FORMAT=json asks for them (a log collector reading a CLI's stderr).

import { logEnvironment } from '../config/process-env.ts';
import pino from 'pino';
import type { Logger } from '../core/logger.ts';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
// `err` is told by its message (the stack stays out of a terminal line).
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v', 'err']);

/** One log record as a single line: level, name, message, then its other fields as key=value. */
export function formatLogLine(record: Record<string, unknown>): string {
  const level = LEVELS[record.level as number] ?? String(record.level);
  const fields = Object.entries(record)
    .filter(([key, value]) => !OMITTED.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const err = record.err as { message?: string } | undefined;
  const message = String(record.msg ?? err?.message ?? '');
  return `${level} ${record.name ?? ''}: ${message}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}`;
}

export interface LineSink {
  log(line: string): void;
}

/**
 * A logger for a one-shot command: human lines on stderr, through `sink()` on a terminal (so the
 * progress view can take over once it exists); JSON lines with FER_LOG_FORMAT=json.
 */
export function createCommandLogger(
  name: string,
  sink: () => LineSink | undefined,
  stderr: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Logger {
  const logging = logEnvironment(env);
  const level = logging.level ?? 'warn';
  if (logging.json) return pino({ name, level }, pino.destination(2));
  return pino(
    { name, level },
    {
      write(chunk: string) {
        const line = formatLogLine(JSON.parse(chunk) as Record<string, unknown>);
        const target = stderr.isTTY ? sink() : undefined;
        if (target) target.log(line);
        else stderr.write(`${line}\n`);
      },
    },
  );
}
