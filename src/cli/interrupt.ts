// Ctrl-C (SIGINT) or SIGTERM during a one-shot command: the first one aborts `signal`, so the
// command cancels its work and cleans up, and gives both signals back their default action, so a
// second one ends the process at once.

import { FerError } from '../core/errors.ts';

/** The catalogue's `interrupted` (exit 130). */
export class InterruptedError extends FerError {
  constructor(message: string) {
    super('interrupted', message);
    this.name = 'InterruptedError';
  }
}

export interface Interrupts {
  /** Aborted (with an InterruptedError) by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Stops listening (the command is done). */
  dispose(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export function watchInterrupts(onInterrupt: (signal: NodeJS.Signals) => void = () => undefined): Interrupts {
  const controller = new AbortController();
  const dispose = () => {
    for (const name of SIGNALS) process.off(name, handler);
  };
  function handler(signal: NodeJS.Signals): void {
    dispose();
    onInterrupt(signal);
    controller.abort(new InterruptedError(`interrupted (${signal})`));
  }
  for (const name of SIGNALS) process.on(name, handler);
  return { signal: controller.signal, dispose };
}

/** `promise`, or a rejection with the signal's reason as soon as it is aborted. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
