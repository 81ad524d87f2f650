import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { prometheusBinary } from './prometheus.ts';
import { describeRequiring } from './shared.ts';

// The system tools some suites need beyond Node and Redis, each with the Debian package that
// provides it. Where one is missing a suite skips with one line naming the package; in CI
// (CI=true, as .ci/run runs) a missing tool fails instead, as missing shared data does.

const runs = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

export const SYSTEM_TOOLS = {
  ffmpeg: { package: 'ffmpeg', available: () => runs('ffmpeg', ['-version']) },
  'redis-server': { package: 'redis-server', available: () => runs('redis-server', ['--version']) },
  prometheus: {
    package: 'prometheus',
    available: () => runs(prometheusBinary, ['--version']) && runs('promtool', ['--version']),
  },
  'docker-compose': { package: 'docker-compose', available: () => runs('docker-compose', ['version']) },
  'python3 (PIL, numpy)': {
    package: 'python3-pil python3-numpy',
    available: () => runs('/usr/bin/python3', ['-c', 'import PIL, numpy']),
  },
  chromium: { package: 'chromium', available: () => runs('chromium', ['--version']) },
  tmux: { package: 'tmux', available: () => runs('tmux', ['-V']) },
  openssl: { package: 'openssl', available: () => runs('openssl', ['version']) },
  taskset: { package: 'util-linux', available: () => runs('taskset', ['--version']) },
  'network namespaces (ip netns, as root)': {
    package: 'iproute2',
    available: () => process.getuid?.() === 0 && runs('ip', ['netns', 'list']),
  },
  'podman (as root)': {
    package: 'podman runc netavark aardvark-dns iptables debootstrap',
    available: () =>
      process.getuid?.() === 0 &&
      runs('podman', ['--version']) &&
      runs('debootstrap', ['--version']) &&
      runs('iptables', ['--version']),
  },
  kubectl: { package: 'kubectl', available: () => runs('kubectl', ['version', '--client']) },
  alertmanager: {
    package: 'prometheus-alertmanager',
    available: () => runs('prometheus-alertmanager', ['--version']) && runs('amtool', ['--version']),
  },
  'the DejaVu font (drawtext)': {
    package: 'fonts-dejavu-core',
    available: () => existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'),
  },
} as const;

export type SystemTool = keyof typeof SYSTEM_TOOLS;

const checked = new Map<SystemTool, boolean>();
export function toolAvailable(tool: SystemTool): boolean {
  let ok = checked.get(tool);
  if (ok === undefined) checked.set(tool, (ok = SYSTEM_TOOLS[tool].available()));
  return ok;
}

/** `describe` for suites that need `tools`: skipped with the packages to install, failing in CI. */
export function describeWithTools(name: string, tools: readonly SystemTool[], body: () => void): void {
  const missing = tools.filter((t) => !toolAvailable(t));
  const install = `apt-get install ${[...new Set(missing.flatMap((t) => SYSTEM_TOOLS[t].package.split(' ')))].join(' ')}`;
  describeRequiring(name, body, {
    available: missing.length === 0,
    failWhenMissing: process.env.CI === 'true',
    missing: `needs ${missing.join(', ')}, not installed here (${install})`,
    skip: `needs ${missing.join(', ')} (${install})`,
  });
}
