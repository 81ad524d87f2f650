// The alerts reach someone: the shipped rules (deploy/prometheus/rules.yml) on a real Prometheus
// with the shipped Alertmanager configuration (deploy/alertmanager/alertmanager.yml, its webhook
// pointed at a receiver on loopback) — a worker target that is down fires FerStreamNoWorkerUp,
// and the receiver gets it, firing, with its labels and annotations. Two substitutions keep it
// short: the rules' `for:` durations become 1 s (promtool's unit tests cover the real durations),
// the route's group_wait 1 s and group_interval 2 s (Alertmanager sends an alert that joins an
// already-flushed group only at the next group interval).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli-processes.ts';
import { freePort, startPrometheus, type TestPrometheus } from '../helpers/prometheus.ts';
import { describeWithTools } from '../helpers/system-tools.ts';

describeWithTools('alerts through Alertmanager to a webhook', ['prometheus', 'alertmanager'], () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-alerts-'));
  const received: Array<{
    status: string;
    alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
  }> = [];
  let receiver: Server;
  let alertmanager: ChildProcess;
  let prometheus: TestPrometheus;
  let alertmanagerPort: number;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => (body += c.toString()));
      request.on('end', () => {
        if (request.url === '/alerts') received.push(JSON.parse(body));
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;

    const shipped = readFileSync(path.join(repoRoot, 'deploy', 'alertmanager', 'alertmanager.yml'), 'utf8');
    expect(shipped).toContain('url: http://alert-receiver:9095/alerts');
    writeFileSync(
      path.join(dir, 'alertmanager.yml'),
      shipped
        .replace('http://alert-receiver:9095/alerts', hook)
        .replace('group_wait: 30s', 'group_wait: 1s')
        .replace('group_interval: 5m', 'group_interval: 2s'),
    );
    const rules = readFileSync(path.join(repoRoot, 'deploy', 'prometheus', 'rules.yml'), 'utf8').replace(
      /for: \d+m/g,
      'for: 1s',
    );
    writeFileSync(path.join(dir, 'rules.yml'), rules);

    alertmanagerPort = await freePort();
    const clusterPort = await freePort();
    alertmanager = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${path.join(dir, 'alertmanager.yml')}`,
        `--storage.path=${path.join(dir, 'am')}`,
        `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
        `--cluster.listen-address=127.0.0.1:${clusterPort}`,
        '--log.level=warn',
      ],
      { stdio: 'ignore' },
    );
    for (let waited = 0; waited < 15_000; waited += 200) {
      if (
        await fetch(`http://127.0.0.1:${alertmanagerPort}/-/ready`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await sleep(200);
    }
    // A "worker" that is down: nothing listens on its port.
    const deadWorker = await freePort();
    prometheus = await startPrometheus({
      jobs: [{ job: 'worker', targets: [`127.0.0.1:${deadWorker}`] }],
      ruleFiles: [path.join(dir, 'rules.yml')],
      alertmanagers: [`127.0.0.1:${alertmanagerPort}`],
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    // Alertmanager writes its state into its storage directory as it stops: wait for it to exit
    // before removing the directory (removing it meanwhile failed once with ENOTEMPTY).
    if (alertmanager && alertmanager.exitCode === null && alertmanager.signalCode === null) {
      const exited = new Promise((resolve) => alertmanager.once('exit', resolve));
      alertmanager.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
    }
    receiver?.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('amtool accepts the shipped configuration', () => {
    expect(
      execFileSync('amtool', ['check-config', path.join(repoRoot, 'deploy', 'alertmanager', 'alertmanager.yml')], {
        encoding: 'utf8',
      }),
    ).toMatch(/SUCCESS/);
  });

  it('no worker up → FerStreamNoWorkerUp arrives at the webhook, firing, with its severity and description', async () => {
    let alert: (typeof received)[number]['alerts'][number] | undefined;
    for (let waited = 0; waited < 60_000 && !alert; waited += 500) {
      alert = received.flatMap((r) => r.alerts).find((a) => a.labels.alertname === 'FerStreamNoWorkerUp');
      await sleep(500);
    }
    expect(
      alert,
      `${JSON.stringify(received)}\nALERTS in Prometheus: ${JSON.stringify(await prometheus.query('ALERTS'))}`,
    ).toMatchObject({
      status: 'firing',
      labels: { alertname: 'FerStreamNoWorkerUp', severity: 'critical' },
      annotations: { summary: 'No fer-stream worker is up' },
    });
    // Inhibited by it: no page for a stuck queue while no worker is up.
    expect(received.flatMap((r) => r.alerts).some((a) => a.labels.alertname === 'FerStreamQueueStuck')).toBe(false);
  }, 90_000);
});
