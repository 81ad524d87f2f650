import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.ts';
import type { Registry } from './registry.ts';

/** What `/healthz` reports: 200 when `ok`, 503 otherwise, with the details as JSON. */
export interface HealthReport {
  ok: boolean;
  details?: Record<string, unknown>;
}

export interface MetricsServerOptions {
  registry: Registry;
  host?: string;
  /** First port tried; 0 = ephemeral. */
  port: number;
  /** Consecutive ports tried from `port` when it is in use (see src/config/metrics.ts). */
  portAttempts?: number;
  /** Liveness check behind `/healthz`; without one the process is healthy while it serves. */
  health?: () => HealthReport | Promise<HealthReport>;
  logger?: Logger;
}

export interface MetricsServer {
  /** The port actually bound (differs from the configured one for port 0 or a taken port). */
  readonly port: number;
  readonly host: string;
  /** e.g. http://127.0.0.1:9464 (loopback when bound to all interfaces). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format of the registry) and `GET /healthz` on its own
 * port, apart from any API port, so scraping works the same for every process. node:http is
 * enough for two routes.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '0.0.0.0';
  const attempts = options.port === 0 ? 1 : Math.max(1, options.portAttempts ?? 1);
  const server = createServer((req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      options.logger?.error({ err: error }, 'metrics request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    });
  });
  // Scrapers keep connections alive; don't let them hold the process open on close.
  server.keepAliveTimeout = 5_000;

  let lastError: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    const port = options.port === 0 ? 0 : options.port + i;
    if (port > 65_535) break;
    try {
      await listen(server, host, port);
      const bound = (server.address() as AddressInfo).port;
      const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      options.logger?.info({ metricsPort: bound, metricsHost: host }, `metrics on http://${urlHost}:${bound}/metrics`);
      return {
        port: bound,
        host,
        url: `http://${urlHost}:${bound}`,
        close: () => close(server),
      };
    } catch (error) {
      lastError = error as Error;
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  const last = options.port === 0 ? 0 : Math.min(65_535, options.port + attempts - 1);
  const range = options.port === 0 || last === options.port ? `port ${options.port}` : `ports ${options.port}–${last}`;
  throw new Error(
    `metrics server could not listen on ${host} ${range}: ${lastError?.message ?? 'no port left'} ` +
      '(set FER_METRICS_PORT to a free port, 0 for an ephemeral one, or raise FER_METRICS_PORT_ATTEMPTS)',
    { cause: lastError },
  );
}

async function handle(options: MetricsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  if (path === '/metrics') {
    const body = await options.registry.metrics();
    res.writeHead(200, { 'content-type': options.registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  // /readyz is the same check under the name Kubernetes readiness probes use: ready = Redis reachable.
  if (path === '/healthz' || path === '/readyz') {
    let report: HealthReport;
    try {
      report = (await options.health?.()) ?? { ok: true };
    } catch (error) {
      report = { ok: false, details: { error: (error as Error).message } };
    }
    res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(
      req.method === 'HEAD' ? undefined : JSON.stringify({ status: report.ok ? 'ok' : 'unhealthy', ...report.details }),
    );
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('not found: try /metrics, /healthz or /readyz\n');
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
