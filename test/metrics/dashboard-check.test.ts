import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkDashboard,
  dashboardQueries,
  describeFailures,
  substituteGrafanaVariables,
  templateDefaults,
  variableQueryToPromql,
} from '../../src/metrics/dashboard-check.ts';
import { createMetricsObserver } from '../../src/metrics/observer.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.ts';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.ts';
import { describeWithTools } from '../helpers/system-tools.ts';

const shipped = JSON.parse(
  readFileSync(new URL('../../deploy/grafana/dashboards/fer-stream.json', import.meta.url), 'utf8'),
) as unknown;

const target = (expr: string, extra: object = {}) => ({
  refId: 'A',
  expr,
  datasource: { type: 'prometheus', uid: 'x' },
  ...extra,
});

describe('dashboard query extraction', () => {
  it('finds every target of the shipped dashboard (rows included) and its template variable', () => {
    const queries = dashboardQueries(shipped);
    expect(queries.filter((q) => q.kind === 'variable').map((q) => q.expr)).toEqual([
      'count by (instance) (up{job="worker"})',
    ]);
    const panelQueries = queries.filter((q) => q.kind === 'panel');
    expect(panelQueries.length).toBeGreaterThanOrEqual(30);
    expect(new Set(panelQueries.map((q) => q.source)).size).toBe(panelQueries.length);
  });

  it('walks nested row panels and skips hidden targets', () => {
    const dashboard = {
      panels: [
        {
          type: 'row',
          title: 'r',
          panels: [{ title: 'inner', targets: [target('up'), target('down', { refId: 'B', hide: true })] }],
        },
        { title: 'outer', targets: [target('sum(up)', { instant: true })] },
      ],
    };
    expect(dashboardQueries(dashboard).map((q) => [q.source, q.expr, q.instant])).toEqual([
      ['panel "inner" A', 'up', false],
      ['panel "outer" A', 'sum(up)', true],
    ]);
  });

  it('rejects a target without an expression', () => {
    expect(() => dashboardQueries({ panels: [{ title: 'p', targets: [{ refId: 'A' }] }] })).toThrow(
      /panel "p" target A has no PromQL/,
    );
  });

  it('substitutes Grafana built-ins and template variables, and refuses unknown ones', () => {
    const values = { rateInterval: '4s', interval: '1s', range: '2m', templates: { instance: '.*', job: 'worker' } };
    expect(substituteGrafanaVariables('rate(x[$__rate_interval]) / $__range_s + $__interval_ms', values)).toBe(
      'rate(x[4s]) / 120 + 1000',
    );
    expect(substituteGrafanaVariables('increase(x[$__range])', values)).toBe('increase(x[2m])');
    expect(
      substituteGrafanaVariables('up{instance=~"$instance", job="${job}", j2="[[job]]", j3="${job:regex}"}', values),
    ).toBe('up{instance=~".*", job="worker", j2="worker", j3="worker"}');
    expect(() => substituteGrafanaVariables('up{x="$nope"}', values)).toThrow(/unknown Grafana variable \$nope/);
    expect(templateDefaults(shipped)).toEqual({ instance: '.*' });
    expect(variableQueryToPromql('label_values(up{job="worker"}, instance)')).toBe(
      'count by (instance) (up{job="worker"})',
    );
    expect(variableQueryToPromql('query_result(topk(3, up))')).toBe('topk(3, up)');
    expect(() => variableQueryToPromql('metrics(ferstream_.*)')).toThrow(/unsupported template variable query/);
  });
});

describeWithTools('dashboard checker against a real Prometheus', ['prometheus'], () => {
  let prometheus: TestPrometheus;
  let server: MetricsServer;
  let start: number;

  beforeAll(async () => {
    const registry = createMetricsRegistry();
    const observer = createMetricsObserver(registry);
    observer.frameProcessed!({ faces: 1, queueWaitMs: 5, endToEndMs: 50 });
    server = await startMetricsServer({ registry, host: '127.0.0.1', port: 0 });
    start = Math.floor(Date.now() / 1000);
    prometheus = await startPrometheus({ jobs: [{ job: 'worker', targets: [`127.0.0.1:${server.port}`] }] });
    await prometheus.waitForScrapes(3);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
  });

  it('passes real metrics and reports typos (no data), syntax errors and NaN-only results', async () => {
    const dashboard = {
      panels: [
        { title: 'good', targets: [target('sum(rate(ferstream_frames_processed_total[$__rate_interval])) + 1')] },
        {
          title: 'good instant',
          targets: [target('ferstream_frames_processed_total{job="worker", instance=~"$instance"}', { instant: true })],
        },
        { title: 'typo', targets: [target('sum(rate(ferstream_frames_procesed_total[$__rate_interval]))')] },
        { title: 'syntax', targets: [target('sum(rate(ferstream_frames_processed_total[$__rate_interval])')] },
        {
          title: 'nan only',
          targets: [
            target(
              'histogram_quantile(0.5, sum by (le) (rate(ferstream_video_latency_seconds_bucket[$__rate_interval])))',
            ),
          ],
        },
      ],
      templating: {
        list: [
          {
            name: 'instance',
            type: 'query',
            query: 'label_values(up{job="worker"}, instance)',
            includeAll: true,
            allValue: '.*',
          },
        ],
      },
    };
    const checks = await checkDashboard(dashboard, {
      prometheusUrl: prometheus.url,
      start,
      end: Math.floor(Date.now() / 1000),
      stepSeconds: 1,
      variables: { rateInterval: '4s', interval: '1s', range: '1m' },
    });
    expect(Object.fromEntries(checks.map((c) => [c.query.source, c.outcome]))).toEqual({
      'panel "good" A': 'ok',
      'panel "good instant" A': 'ok',
      'panel "typo" A': 'empty',
      'panel "syntax" A': 'error',
      'panel "nan only" A': 'no-finite-values',
      'variable instance': 'ok',
    });
    const instant = checks.find((c) => c.query.source === 'panel "good instant" A')!;
    expect(instant.series[0]!.values[0]![1]).toBe(1);
    expect(describeFailures(checks)).toEqual([
      'panel "typo" A: empty: sum(rate(ferstream_frames_procesed_total[4s]))',
      expect.stringMatching(/^panel "syntax" A: error \(.*parse error.*\): sum\(rate/),
      expect.stringMatching(/^panel "nan only" A: no-finite-values: histogram_quantile/),
    ]);
  });
});
