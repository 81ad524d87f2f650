import { createServer } from 'node:net';
import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { startProcessMetrics, type ProcessMetrics } from '../../src/metrics/process.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.ts';

const toClose: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(toClose.splice(0).map((c) => c.close()));
});

async function serve(options: Parameters<typeof startMetricsServer>[0]): Promise<MetricsServer> {
  const server = await startMetricsServer(options);
  toClose.push(server);
  return server;
}

/** A port that is taken for the rest of the test, and the one after it free (as far as we know). */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    }).on('error', reject);
  });
}

async function occupyPort(): Promise<number> {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  toClose.push({ close: () => new Promise<void>((resolve) => blocker.close(() => resolve())) });
  return (blocker.address() as { port: number }).port;
}

describe('metrics server', () => {
  it('serves /metrics in the Prometheus text format and /healthz as JSON', async () => {
    const registry = createMetricsRegistry();
    const server = await serve({ registry, host: '127.0.0.1', port: 0 });
    expect(server.port).toBeGreaterThan(0);
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toMatch(/^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('answers 503 with details when the health check fails or throws', async () => {
    const registry = createMetricsRegistry();
    let healthy = false;
    const server = await serve({
      registry,
      host: '127.0.0.1',
      port: 0,
      health: () => {
        if (healthy) return { ok: true, details: { redis: 'up' } };
        throw new Error('redis unreachable');
      },
    });
    const down = await fetch(`${server.url}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'unhealthy', error: 'redis unreachable' });
    healthy = true;
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok', redis: 'up' });
  });

  it('moves to the next port when the configured one is taken, so workers on one host do not clash', async () => {
    const taken = await occupyPort();
    const a = await serve({ registry: createMetricsRegistry(), host: '127.0.0.1', port: taken, portAttempts: 20 });
    const b = await serve({ registry: createMetricsRegistry(), host: '127.0.0.1', port: taken, portAttempts: 20 });
    expect(a.port).toBeGreaterThan(taken);
    expect(b.port).toBeGreaterThan(a.port);
    // A connection of its own each: these ports follow one another, and fetch's pool may still hold a
    // socket to the same port from an earlier test's server, closed since ("other side closed").
    for (const s of [a, b]) expect(await statusOf(`${s.url}/metrics`)).toBe(200);
  });

  it('fails with a message naming the ports and the knobs when none is free', async () => {
    const taken = await occupyPort();
    await expect(
      startMetricsServer({ registry: createMetricsRegistry(), host: '127.0.0.1', port: taken, portAttempts: 1 }),
    ).rejects.toThrow(new RegExp(`port ${taken}: .*EADDRINUSE.*FER_METRICS_PORT`));
  });

  it('startProcessMetrics wires registry, observer, build info and server from the configuration', async () => {
    const config = loadConfig({ FER_METRICS_PORT: '0', FER_METRICS_HOST: '127.0.0.1' });
    const processMetrics: ProcessMetrics = await startProcessMetrics(config.metrics, { role: 'worker' });
    toClose.push(processMetrics);
    processMetrics.setBuildInfo({ model: 'vit-tiny', provider: 'cpu' });
    processMetrics.observer.frameProcessed!({ faces: 1, queueWaitMs: 1, endToEndMs: 2 });
    const text = await (await fetch(`${processMetrics.server!.url}/metrics`)).text();
    expect(text).toMatch(/^ferstream_frames_processed_total 1$/m);
    expect(text).toMatch(/^ferstream_build_info\{version="[^"]+",role="worker",model="vit-tiny",provider="cpu"\} 1$/m);

    // Held frames follow Redis (read at scrape time), not only the producer's last report.
    processMetrics.observer.framesHeld!({ frames: 18, bytes: 18 * 57_600 });
    let held = { frames: 4, bytes: 4 * 57_600 };
    processMetrics.watchHeldFrames(async () => held);
    const scrape = async () => (await fetch(`${processMetrics.server!.url}/metrics`)).text();
    expect(await scrape()).toMatch(/^ferstream_redis_held_frames 4$/m);
    held = { frames: 0, bytes: 0 };
    await new Promise((r) => setTimeout(r, 300));
    const drained = await scrape();
    expect(drained).toMatch(/^ferstream_redis_held_frames 0$/m);
    expect(drained).toMatch(/^ferstream_redis_held_frame_bytes 0$/m);

    const disabled = await startProcessMetrics(loadConfig({ FER_METRICS_ENABLED: 'false' }).metrics, {
      role: 'producer',
    });
    expect(disabled.server).toBeUndefined();
    await disabled.close();
  });

  it('validates the metrics configuration', () => {
    expect(loadConfig({}).metrics).toMatchObject({ enabled: true, port: 9464, portAttempts: 10 });
    expect(() => loadConfig({ FER_METRICS_PORT: '70000' })).toThrow(/metrics\.port/);
    expect(() => loadConfig({ FER_METRICS_PORT_ATTEMPTS: '0' })).toThrow(/metrics\.portAttempts/);
  });
});
