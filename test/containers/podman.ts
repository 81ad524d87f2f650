import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/cli-processes.ts';

// Podman for the container tests: its settings for these machines (deploy/podman/containers.conf),
// its Docker-compatible socket for docker-compose and testcontainers, and the health checks that
// systemd's timers would run (no systemd here: Podman leaves a container "starting" forever).

export const podmanEnv: NodeJS.ProcessEnv = {
  ...process.env,
  CONTAINERS_CONF: path.join(repoRoot, 'deploy/podman/containers.conf'),
};

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (async, so the test's timers and servers go on), output collected. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? podmanEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Like run, but a non-zero exit throws with the command's last output. */
export async function runOk(
  command: string,
  args: readonly string[],
  options: Parameters<typeof run>[2] = {},
): Promise<string> {
  const result = await run(command, args, options);
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status}:\n${(result.stderr || result.stdout).slice(-3000)}`,
    );
  return result.stdout;
}

export const podman = (args: readonly string[], timeoutMs?: number) => runOk('podman', args, { timeoutMs });

/** `podman system service` on a private socket: DOCKER_HOST for docker-compose and testcontainers. */
export class PodmanService {
  private constructor(
    readonly dockerHost: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<PodmanService> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-podman-'));
    const socket = path.join(dir, 'podman.sock');
    const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
      env: podmanEnv,
      stdio: 'ignore',
    });
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!existsSync(socket)) throw new Error('podman system service did not open its socket in 10 s');
    return new PodmanService(`unix://${socket}`, child, dir);
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs every running container's health check of a compose project every `everyMs`, as systemd's
 * timers do where Podman has them, so `depends_on: service_healthy` and the health states move.
 */
export function driveHealthChecks(project: string, everyMs = 3000): { stop(): void } {
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    const ids = (await run('podman', ['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`])).stdout
      .split('\n')
      .filter(Boolean);
    await Promise.all(ids.map((id) => run('podman', ['healthcheck', 'run', id], { timeoutMs: 20_000 })));
    if (!stopped) timer = setTimeout(() => void tick(), everyMs);
  };
  let timer = setTimeout(() => void tick(), 0);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The health of each of a compose project's containers: name → healthy | unhealthy | starting | none. */
export async function containerHealth(project: string): Promise<Map<string, string>> {
  const out = await runOk('podman', [
    'ps',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--format',
    '{{.Names}} {{.Status}}',
  ]);
  const health = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [name, ...status] = line.split(' ');
    const text = status.join(' ');
    health.set(
      name!,
      /\(healthy\)/.test(text)
        ? 'healthy'
        : /\(unhealthy\)/.test(text)
          ? 'unhealthy'
          : /\(starting\)/.test(text)
            ? 'starting'
            : 'none',
    );
  }
  return health;
}
