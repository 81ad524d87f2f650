import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

// fer-stream CLI processes started by whole-system tests (producer, workers, API), their output
// kept for assertions and for failure messages, and stopped together with SIGTERM.

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = path.join(repoRoot, 'bin', 'fer-stream.js');

export interface CliChild {
  readonly name: string;
  readonly process: ChildProcess;
  output: string;
  readonly exit: Promise<number | null>;
  /** Set when the test stopped it on purpose (kill): its exit is no failure. */
  stopped?: boolean;
}

/** The JSON log lines of a child's output (pino, CI=true), parsed. */
export function logLines(child: CliChild): Array<Record<string, unknown> & { msg?: string }> {
  return child.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

export class CliProcesses {
  readonly children: CliChild[] = [];

  constructor(private readonly pollMs = 200) {}

  /** Starts `fer-stream ARGS…` with its stdout and stderr collected into `output`. */
  start(name: string, args: string[], env: NodeJS.ProcessEnv): CliChild {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const entry: CliChild = {
      name,
      process: child,
      output: '',
      exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    };
    const collect = (chunk: Buffer) => {
      entry.output += chunk.toString();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.children.push(entry);
    return entry;
  }

  /** Polls `probe` until it gives a value; fails early, with its output, if any process exits. */
  async until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      for (const c of this.children)
        if (c.process.exitCode !== null && !c.stopped)
          throw new Error(
            `${c.name} exited (${c.process.exitCode}) while waiting for ${what}:\n${c.output.slice(-3000)}`,
          );
      await sleep(this.pollMs);
    }
    throw new Error(
      `timed out waiting for ${what}\n${this.children.map((c) => `--- ${c.name}\n${c.output.slice(-2000)}`).join('\n')}`,
    );
  }

  /** Sends `signal` to a child the test means to stop (kill -9 by default); resolves once it has exited when `wait`. */
  async kill(child: CliChild, signal: NodeJS.Signals = 'SIGKILL', wait = true): Promise<number | null> {
    child.stopped = true;
    child.process.kill(signal);
    return wait ? child.exit : null;
  }

  /** Writes every child's whole output to one file (for a failed test) and returns its path. */
  dump(label: string): string {
    const file = path.join(os.tmpdir(), `fer-test-${label.replace(/\W+/g, '-').slice(0, 60)}-${process.pid}.log`);
    writeFileSync(file, this.children.map((c) => `--- ${c.name}\n${c.output}`).join('\n'));
    return file;
  }

  /** SIGTERM to every process still running (SIGKILL after 30 s); returns each one's exit code by name. */
  async stopAll(): Promise<Record<string, number | null | 'killed'>> {
    for (const c of this.children) if (c.process.exitCode === null) c.process.kill('SIGTERM');
    const codes = await Promise.all(
      this.children.map((c) =>
        Promise.race([c.exit, sleep(30_000).then(() => (c.process.kill('SIGKILL'), 'killed' as const))]),
      ),
    );
    return Object.fromEntries(this.children.map((c, i) => [c.name, codes[i]!]));
  }
}

export interface CliRun {
  /** Exit code (0 on success). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI to its end with `env` (the whole environment: pass process.env's where wanted); never throws on a
 * non-zero exit.
 */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
