import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli-processes.ts';
import { describeWithTools } from '../helpers/system-tools.ts';

// Both overlays of deploy/k8s, rendered by the real kustomize, checked document by document against
// the Kubernetes API's schemas (npm kubernetes-models: the API server's OpenAPI definitions compiled
// to validators; KEDA's CRD schema from @kubernetes-models/keda) — types, enums, required fields and
// formats, as `kubectl apply` would meet them. (These schemas allow unknown fields; the field names
// our code reads are checked by test/deploy/k8s.test.ts.)

type Manifest = { apiVersion: string; kind: string; metadata: { name: string } };
type Model = new (data: unknown) => { validate(): void };

/** The validator class of a kind: core groups from kubernetes-models, KEDA's from its own package. */
async function modelOf({ apiVersion, kind }: Manifest): Promise<Model> {
  const module = apiVersion.startsWith('keda.sh/')
    ? `@kubernetes-models/keda/${apiVersion}/${kind}`
    : `kubernetes-models/${apiVersion}/${kind}`;
  const loaded = (await import(module).catch(() => {
    throw new Error(`no schema for ${apiVersion} ${kind} (${module})`);
  })) as Record<string, Model>;
  return loaded[kind]!;
}

async function problems(docs: readonly Manifest[]): Promise<string[]> {
  const found: string[] = [];
  for (const doc of docs) {
    const Kind = await modelOf(doc);
    try {
      new Kind(doc).validate();
    } catch (error) {
      found.push(`${doc.kind}/${doc.metadata.name}: ${(error as Error).message}`);
    }
  }
  return found;
}

const render = (overlay: string): Manifest[] =>
  parseAllDocuments(
    execFileSync('kubectl', ['kustomize', path.join(repoRoot, 'deploy', 'k8s', 'overlays', overlay)], {
      encoding: 'utf8',
    }),
  ).map((d) => d.toJSON() as Manifest);

describeWithTools('deploy/k8s against the Kubernetes API schemas', ['kubectl'], () => {
  it.each(['cpu', 'gpu'])('every document of the %s overlay is valid for its kind', async (overlay) => {
    const docs = render(overlay);
    expect(docs.length).toBeGreaterThan(20);
    expect(await problems(docs)).toEqual([]);
  });

  it('the check rejects what the API server would: a wrong type, a bad enum, a missing required field', async () => {
    const docs = render('cpu');
    const deployment = structuredClone(docs.find((d) => d.kind === 'Deployment')) as Manifest & { spec: any };
    deployment.spec.replicas = 'two';
    const scaler = structuredClone(docs.find((d) => d.kind === 'ScaledObject')) as Manifest & { spec: any };
    delete scaler.spec.scaleTargetRef;
    const service = structuredClone(docs.find((d) => d.kind === 'Service')) as Manifest & { spec: any };
    service.spec.type = 'Balanced';
    const found = await problems([deployment, scaler, service]);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/replicas/);
    expect(found[1]).toMatch(/scaleTargetRef/);
    expect(found[2]).toMatch(/type/);
  });
});
