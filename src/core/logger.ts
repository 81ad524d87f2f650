import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One pino logger per process. JSON lines for services (and whenever stdout is not a terminal),
 * human-readable lines on a terminal. Frame bytes are never logged: callers pass ids, not buffers.
 */
export function createLogger(options: { name: string; level?: string; pretty?: boolean }): Logger {
  // The caller says (config/process-env.ts: a terminal, not CI); core reads no environment.
  const pretty = options.pretty ?? false;
  return pino({
    name: options.name,
    level: options.level ?? 'info',
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  });
}
