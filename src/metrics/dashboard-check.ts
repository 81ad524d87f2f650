// Checks a Grafana dashboard's PromQL against a live Prometheus: every panel query (and every
// query-based template variable) must parse, and must return data with at least one finite value
// over a time range. A renamed metric or a typo in a panel then fails loudly instead of showing an
// empty panel to an operator. Used by test/deploy/prometheus-e2e.test.ts.

export interface DashboardQuery {
  /** Panel title (or `variable <name>`) and target refId, for messages. */
  readonly source: string;
  readonly kind: 'panel' | 'variable';
  /** The expression as written in the dashboard, Grafana variables included. */
  readonly expr: string;
  /** Instant query (Grafana's "instant" targets and table panels) rather than a range query. */
  readonly instant: boolean;
  readonly legendFormat?: string;
  /** Grafana's result format: `time_series` (default), `table` or `heatmap` (cumulative `le` buckets). */
  readonly format?: string;
}

/** Values for Grafana's built-in variables, as Prometheus durations (`5s`, `1m`). */
export interface GrafanaVariableValues {
  rateInterval: string;
  interval: string;
  range: string;
  /**
   * Template variables by name; default: each variable's `allValue` (or `.*`) when it includes All, else its current
   * value.
   */
  templates?: Record<string, string>;
}

interface GrafanaTarget {
  expr?: unknown;
  refId?: unknown;
  instant?: unknown;
  range?: unknown;
  format?: unknown;
  legendFormat?: unknown;
  hide?: unknown;
  datasource?: unknown;
}
interface GrafanaPanel {
  title?: unknown;
  type?: unknown;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  datasource?: unknown;
}
interface GrafanaVariable {
  name?: unknown;
  type?: unknown;
  query?: unknown;
  definition?: unknown;
  includeAll?: unknown;
  allValue?: unknown;
  current?: { value?: unknown };
  datasource?: unknown;
}
interface GrafanaDashboard {
  panels?: GrafanaPanel[];
  templating?: { list?: GrafanaVariable[] };
}

/** Every panel (rows' nested panels included) in dashboard order. */
export function dashboardPanels(dashboard: unknown): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  const walk = (panels: GrafanaPanel[] | undefined) => {
    for (const panel of panels ?? []) {
      out.push(panel);
      walk(panel.panels);
    }
  };
  walk((dashboard as GrafanaDashboard).panels);
  return out;
}

/** The PromQL of every visible panel target and every query template variable. */
export function dashboardQueries(dashboard: unknown): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const panel of dashboardPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (target.hide === true) continue;
      if (typeof target.expr !== 'string' || target.expr.trim() === '') {
        throw new Error(`panel "${String(panel.title)}" target ${String(target.refId)} has no PromQL expression`);
      }
      queries.push({
        source: `panel "${String(panel.title)}" ${String(target.refId)}`,
        kind: 'panel',
        expr: target.expr,
        instant: target.instant === true && target.range !== true,
        legendFormat: typeof target.legendFormat === 'string' ? target.legendFormat : undefined,
        format: typeof target.format === 'string' ? target.format : undefined,
      });
    }
  }
  for (const variable of (dashboard as GrafanaDashboard).templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const raw =
      typeof variable.query === 'string' ? variable.query : (variable.query as { query?: unknown } | undefined)?.query;
    if (typeof raw !== 'string') throw new Error(`template variable ${String(variable.name)} has no query`);
    queries.push({
      source: `variable ${String(variable.name)}`,
      kind: 'variable',
      expr: variableQueryToPromql(raw),
      instant: true,
    });
  }
  return queries;
}

/**
 * Grafana's Prometheus variable functions as plain PromQL returning the same series:
 * `label_values(sel, label)` → `count by (label) (sel)`, `query_result(q)` → `q`.
 */
export function variableQueryToPromql(query: string): string {
  const labelValues = /^\s*label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/s.exec(query);
  if (labelValues) return `count by (${labelValues[2]}) (${labelValues[1]})`;
  const queryResult = /^\s*query_result\((.+)\)\s*$/s.exec(query);
  if (queryResult) return queryResult[1]!;
  throw new Error(
    `unsupported template variable query (only label_values(selector, label) and query_result(q)): ${query}`,
  );
}

/** Default values of the dashboard's template variables (All → allValue or `.*`). */
export function templateDefaults(dashboard: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  for (const variable of (dashboard as GrafanaDashboard).templating?.list ?? []) {
    if (typeof variable.name !== 'string') continue;
    const current = variable.current?.value;
    const first = Array.isArray(current) ? current[0] : current;
    if (variable.includeAll === true && (first === undefined || first === '$__all')) {
      values[variable.name] =
        typeof variable.allValue === 'string' && variable.allValue !== '' ? variable.allValue : '.*';
    } else if (typeof first === 'string') {
      values[variable.name] = first;
    }
  }
  return values;
}

/** Replaces Grafana's variables in a PromQL expression; an unknown variable is an error. */
export function substituteGrafanaVariables(expr: string, values: GrafanaVariableValues): string {
  const builtins: Record<string, string> = {
    __rate_interval: values.rateInterval,
    __interval: values.interval,
    __interval_ms: String(durationMs(values.interval)),
    __range: values.range,
    __range_s: String(Math.round(durationMs(values.range) / 1000)),
    __range_ms: String(durationMs(values.range)),
  };
  const lookup = (name: string): string => {
    const value = builtins[name] ?? values.templates?.[name];
    if (value === undefined) throw new Error(`unknown Grafana variable $${name} in: ${expr}`);
    return value;
  };
  return expr
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}/g, (_, name: string) => lookup(name))
    .replace(/\[\[([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\]\]/g, (_, name: string) => lookup(name))
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)\b/g, (_, name: string) => lookup(name));
}

function durationMs(duration: string): number {
  const units: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000,
    y: 31_536_000_000,
  };
  let total = 0;
  let rest = duration;
  const part = /^(\d+)(ms|s|m|h|d|w|y)/;
  while (rest.length > 0) {
    const match = part.exec(rest);
    if (!match) throw new Error(`not a Prometheus duration: ${duration}`);
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  if (total === 0) throw new Error(`not a Prometheus duration: ${duration}`);
  return total;
}

export interface SeriesResult {
  metric: Record<string, string>;
  /** [unix seconds, value] pairs; one pair for instant queries. */
  values: Array<[number, number]>;
}

export interface QueryCheck {
  readonly query: DashboardQuery;
  /** The expression sent to Prometheus. */
  readonly promql: string;
  readonly outcome: 'ok' | 'error' | 'empty' | 'no-finite-values';
  readonly error?: string;
  readonly series: SeriesResult[];
}

export interface CheckOptions {
  /** e.g. http://127.0.0.1:9090 */
  prometheusUrl: string;
  /** Range evaluated, unix seconds; instant queries are evaluated at `end`. */
  start: number;
  end: number;
  stepSeconds: number;
  variables: GrafanaVariableValues;
}

/** Evaluates every dashboard query through Prometheus's HTTP API. */
export async function checkDashboard(dashboard: unknown, options: CheckOptions): Promise<QueryCheck[]> {
  const variables = {
    ...options.variables,
    templates: { ...templateDefaults(dashboard), ...options.variables.templates },
  };
  const checks: QueryCheck[] = [];
  for (const query of dashboardQueries(dashboard)) {
    let promql = query.expr;
    try {
      promql = substituteGrafanaVariables(query.expr, variables);
      const series = await evaluate(options, promql, query.instant);
      const finite = series.some((s) => s.values.some(([, v]) => Number.isFinite(v)));
      checks.push({
        query,
        promql,
        outcome: series.length === 0 ? 'empty' : finite ? 'ok' : 'no-finite-values',
        series,
      });
    } catch (error) {
      checks.push({ query, promql, outcome: 'error', error: (error as Error).message, series: [] });
    }
  }
  return checks;
}

/** One line per failed check, for assertion messages; empty when everything is fine. */
export function describeFailures(checks: readonly QueryCheck[]): string[] {
  return checks
    .filter((c) => c.outcome !== 'ok')
    .map((c) => `${c.query.source}: ${c.outcome}${c.error ? ` (${c.error})` : ''}: ${c.promql}`);
}

async function evaluate(options: CheckOptions, promql: string, instant: boolean): Promise<SeriesResult[]> {
  const params = new URLSearchParams({ query: promql });
  if (instant) {
    params.set('time', String(options.end));
  } else {
    params.set('start', String(options.start));
    params.set('end', String(options.end));
    params.set('step', `${options.stepSeconds}s`);
  }
  const response = await fetch(`${options.prometheusUrl}/api/v1/${instant ? 'query' : 'query_range'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params,
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: {
      resultType: string;
      result:
        | Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }>
        | [number, string];
    };
  };
  if (body.status !== 'success' || body.data === undefined) throw new Error(body.error ?? `HTTP ${response.status}`);
  if (body.data.resultType === 'scalar') {
    const [t, v] = body.data.result as [number, string];
    return [{ metric: {}, values: [[t, Number(v)]] }];
  }
  const result = body.data.result as Array<{
    metric: Record<string, string>;
    value?: [number, string];
    values?: Array<[number, string]>;
  }>;
  return result.map((r) => ({
    metric: r.metric,
    values: (r.values ?? (r.value ? [r.value] : [])).map(([t, v]) => [t, Number(v)] as [number, number]),
  }));
}
