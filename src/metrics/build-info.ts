import { Gauge } from 'prom-client';
import { FERSTREAM_VERSION } from '../core/version.ts';

export { FERSTREAM_VERSION };
import type { ProcessRole, Registry } from './registry.ts';

export interface BuildInfo {
  role: ProcessRole;
  /** Model name(s) the process runs, e.g. `vit-fer` or `yunet+vit-fer`; `none` where it runs no model. */
  model?: string;
  /** Execution provider the sessions actually got after fallback (`cpu`, `cuda`); `none` without a model. */
  provider?: string;
}

const gauges = new WeakMap<Registry, Gauge<'version' | 'role' | 'model' | 'provider'>>();

/**
 * `ferstream_build_info{version, role, model, provider} 1`: the usual "info" gauge, so a query can
 * join it to show what each instance runs (`* on (instance) group_left(model) ferstream_build_info`).
 * Calling it again (e.g. once the model has loaded) replaces the previous labels.
 */
export function setBuildInfo(registry: Registry, info: BuildInfo): void {
  let gauge = gauges.get(registry);
  if (gauge === undefined) {
    gauge = new Gauge({
      name: 'ferstream_build_info',
      help: 'Always 1; labels say what the process is: fer-stream version, role, model, execution provider.',
      labelNames: ['version', 'role', 'model', 'provider'] as const,
      registers: [registry],
    });
    gauges.set(registry, gauge);
  }
  gauge.reset();
  gauge.set(
    { version: FERSTREAM_VERSION, role: info.role, model: info.model ?? 'none', provider: info.provider ?? 'none' },
    1,
  );
}
