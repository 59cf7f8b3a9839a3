import type { INestApplication } from '@nestjs/common';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInferenceOptions } from '../../lib/options/resolve-options.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { AppModule } from '../../sample/app.module.js';
import { gatewayConfig } from '../../sample/config/gateway.config.js';
import { inferenceConfig } from '../../sample/config/inference.config.js';
import { rolloutConfig } from '../../sample/config/rollout.config.js';
import { serverConfig } from '../../sample/config/server.config.js';
import { prometheus } from '../../sample/ops/metrics.controller.js';
import { startHttpApp } from '../support/http-app.js';
import { waitFor } from '../support/wait-for.js';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const MANIFEST = join(DEPLOY, 'kubernetes/gateway.yaml');
const ALERTS = join(DEPLOY, 'prometheus/alerts.yml');
const ALERT_TESTS = join(DEPLOY, 'prometheus/alerts.test.yml');
const DASHBOARD = join(DEPLOY, 'grafana/nestjs-inference.json');

/** Debian's `prometheus` package brings promtool; CI installs it (`.ci/run`). */
const PROMTOOL = ['promtool', '/usr/bin/promtool'].find(
  (command) => spawnSync(command, ['--version']).status === 0,
);

/** The metric names the deployment kit reads, as the sample exposes them. */
const EXPORTED = [
  'gen_ai_client_operation_duration_bucket',
  'gen_ai_client_operation_duration_sum',
  'gen_ai_client_operation_duration_count',
  'gen_ai_client_token_usage_sum',
  'gen_ai_client_operation_time_to_first_chunk_bucket',
  'gen_ai_client_operation_time_per_output_chunk_bucket',
  'inference_client_retries_total',
  'inference_client_fallbacks_total',
  'inference_client_cost_total',
  'inference_requests_in_flight',
  'inference_streams_active',
  'inference_canary_weight',
  'inference_canary_phase',
  'inference_canary_status',
  'inference_requests_ended_total',
  'inference_shutdown_duration_sum',
];
/** Labels Prometheus adds to every series it scrapes (and kube-state-metrics' own). */
const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod'];

type Manifest = Record<string, unknown> & { kind: string };
// Loosely typed views of the manifests, enough for the checks below.
interface Probe {
  httpGet: { path: string; port: string };
  periodSeconds: number;
  timeoutSeconds?: number;
  failureThreshold: number;
}
interface Container {
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: unknown }[];
  readinessProbe: Probe;
  livenessProbe: Probe;
  startupProbe: Probe;
}

function manifests(): Manifest[] {
  const documents = parseAllDocuments(readFileSync(MANIFEST, 'utf8'));
  for (const document of documents) {
    expect(document.errors).toEqual([]);
    expect(document.warnings).toEqual([]);
  }
  return documents.map((document) => document.toJS() as Manifest);
}

function deployment() {
  const found = manifests().find((manifest) => manifest.kind === 'Deployment') as unknown as {
    spec: {
      selector: { matchLabels: Record<string, string> };
      template: {
        metadata: { labels: Record<string, string>; annotations: Record<string, string> };
        spec: { terminationGracePeriodSeconds: number; containers: Container[] };
      };
    };
  };
  const container = found.spec.template.spec.containers[0]!;
  const env = Object.fromEntries(container.env.map((entry) => [entry.name, entry.value]));
  return { deployment: found, pod: found.spec.template, container, env };
}

/** Every PromQL expression of the dashboard (panels and variables) or of the alert rules. */
function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { query?: unknown }[] };
  };
  const panels = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((t) => t.expr);
  const variables = dashboard.templating.list
    .map((variable) => (variable.query as { query?: string } | undefined)?.query)
    .filter((query): query is string => typeof query === 'string')
    .map((query) => /^label_values\((.*),\s*\w+\)$/.exec(query)![1]!);
  return [...panels, ...variables];
}

function alertExpressions(): string[] {
  const [document] = parseAllDocuments(readFileSync(ALERTS, 'utf8'));
  const { groups } = document!.toJS() as { groups: { rules: { expr: string }[] }[] };
  return groups.flatMap((group) => group.rules.map((rule) => rule.expr));
}

/** Grafana's variables replaced by PromQL, so promtool can parse the dashboard's queries. */
function asPromQl(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__range', '6h')
    .replaceAll('"$job"', '".+"')
    .replaceAll('"$provider"', '".+"');
}

/** Metric names (ours only) and label names an expression uses. */
function references(expr: string): { metrics: string[]; labels: string[] } {
  // A metric name is followed by its selector, a range or nothing; a label name is not.
  const metrics = [...expr.matchAll(/\b((?:gen_ai|inference)_[a-z0-9_]+)(?=\s*[{[]|\s*$)/g)].map(
    (match) => match[1]!,
  );
  const labels = [
    ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((match) =>
      [...match[1]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!),
    ),
    ...[...expr.matchAll(/\b(?:by|on|without|ignoring)\s*\(([^)]*)\)/g)].flatMap((match) =>
      match[1]!
        .split(',')
        .map((label) => label.trim())
        .filter(Boolean),
    ),
  ];
  return { metrics: [...new Set(metrics)], labels: [...new Set(labels)] };
}

/** Sample name → the label names it carries, from a Prometheus text exposition. */
function seriesLabels(exposition: string): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!match) continue;
    const labels = series.get(match[1]!) ?? new Set<string>();
    for (const label of (match[2] ?? '').matchAll(/(\w+)="/g)) labels.add(label[1]!);
    series.set(match[1]!, labels);
  }
  return series;
}

function run(command: string, args: string[], input?: string) {
  const result = spawnSync(command, args, { cwd: DEPLOY, input, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('deploy/kubernetes: the sample on Kubernetes', () => {
  it('parses as YAML: a Deployment, its Service and a PodDisruptionBudget', () => {
    expect(manifests().map((manifest) => manifest.kind)).toEqual([
      'Deployment',
      'Service',
      'PodDisruptionBudget',
    ]);
  });

  it('gives Kubernetes a grace period that covers the whole drain, and tells the module', () => {
    const { pod, env } = deployment();
    const graceMs = pod.spec.terminationGracePeriodSeconds * 1000;
    const readinessDelayMs = Number(env.READINESS_DELAY_MS);
    const drainTimeoutMs = Number(env.DRAIN_TIMEOUT_MS);
    const abandonGraceMs = Number(env.ABANDON_GRACE_MS);
    // The readiness delay, the drain, the abandon grace, the pools' close (bounded by the abandon
    // grace again), and at least 5 s for the app's own hooks and Nest's teardown.
    expect(graceMs).toBeGreaterThanOrEqual(
      readinessDelayMs + drainTimeoutMs + 2 * abandonGraceMs + 5_000,
    );
    expect(Number(env.TERMINATION_GRACE_PERIOD_MS)).toBe(graceMs);
  });

  it('probes the sample’s health routes, readiness fast enough for the readiness delay', () => {
    const { container, env } = deployment();
    const { readinessProbe, livenessProbe, startupProbe } = container;
    expect(readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    // A load balancer that follows the probe stops sending within one failed probe (period ×
    // threshold, plus its timeout), well before the listener closes at the end of the delay.
    const probeMs =
      (readinessProbe.periodSeconds * readinessProbe.failureThreshold +
        (readinessProbe.timeoutSeconds ?? 1)) *
      1000;
    expect(probeMs).toBeLessThanOrEqual(Number(env.READINESS_DELAY_MS) - 2_000);
    // Liveness tolerates a slow event loop under load: 3 misses 10 s apart.
    expect(livenessProbe.periodSeconds * livenessProbe.failureThreshold).toBeGreaterThanOrEqual(30);
  });

  it('listens where the probes, the Service and Prometheus look', () => {
    const all = manifests();
    const { deployment: found, pod, container, env } = deployment();
    const port = container.ports.find((candidate) => candidate.name === 'http')!;
    expect(env.HOST).toBe('0.0.0.0'); // the sample's default is loopback
    expect(Number(env.PORT)).toBe(port.containerPort);
    expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(port.containerPort));
    expect(pod.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    const service = all.find((manifest) => manifest.kind === 'Service') as unknown as {
      spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
    };
    expect(service.spec.ports[0]!.targetPort).toBe('http');
    expect(pod.metadata.labels).toMatchObject(service.spec.selector);
    expect(pod.metadata.labels).toMatchObject(found.spec.selector.matchLabels);
  });

  it('sets options that the sample and the module accept', async () => {
    const { container } = deployment();
    const saved = { ...process.env };
    try {
      for (const entry of container.env) {
        // Secrets get stand-ins; the optional ones (admin token, Redis) stay unset.
        if (entry.value !== undefined) process.env[entry.name] = entry.value;
        else if (/_BASE_URL$/.test(entry.name)) process.env[entry.name] = 'https://x.example/v1';
        else if (/_API_KEY$/.test(entry.name)) process.env[entry.name] = 'sk-stand-in';
      }
      // Each of the sample's config namespaces accepts the manifest's values.
      expect(serverConfig()).toMatchObject({ host: '0.0.0.0', port: 3000 });
      expect(() => [gatewayConfig(), rolloutConfig()]).not.toThrow();
      const resolved = resolveInferenceOptions(await inferenceConfig());
      expect(resolved.shutdown).toMatchObject({
        readinessDelayMs: 5_000,
        drainTimeoutMs: 30_000,
        abandonGraceMs: 1_000,
        terminationGracePeriodMs: 45_000,
      });
      expect(resolved.canary?.phases.map((phase) => phase.weightBps)).toEqual([
        100, 500, 2_500, 5_000, 10_000,
      ]);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});

describe('deploy/grafana and deploy/prometheus against the sample’s real metrics', () => {
  let legacy: SimulatedProvider;
  let next: SimulatedProvider;
  let app: INestApplication | undefined;
  let live = '';
  let afterShutdown = '';
  let series: Map<string, Set<string>>;
  let statuses: number[] = [];
  let probes: number[] = [];
  const ENV = {
    INFERENCE_API_KEY: 'sk-legacy',
    CANARY_API_KEY: 'sk-next',
    READINESS_DELAY_MS: '0',
    ROLLOUT_PHASES: '50:10m',
    ROLLOUT_INTERVAL_MS: '100', // warm-up probes every 100 ms
    // The override header is off by default: without it, `always` was ignored and the canary got
    // the call only when its random bucket fell under 50%.
    ROLLOUT_OVERRIDE_HEADER: 'true',
  };

  beforeAll(async () => {
    legacy = await SimulatedProvider.start({ apiKey: 'sk-legacy', chunks: 3 });
    next = await SimulatedProvider.start({ apiKey: 'sk-next', chunks: 3 });
    // Every canary call fails: it is retried, then falls back to legacy.
    next.setFaultRate({ type: 'status', status: 503 }, 1);
    Object.assign(process.env, ENV, {
      INFERENCE_BASE_URL: legacy.baseUrl,
      CANARY_BASE_URL: next.baseUrl,
    });
    const started = await startHttpApp('express', { imports: [AppModule] });
    app = started.app;
    const url = started.url;
    const get = async (path: string) => {
      const response = await fetch(`${url}${path}`);
      return { status: response.status, text: await response.text() };
    };
    await waitFor(
      async () => (await get('/rollout')).text.includes('"status":"progressing"'),
      'the rollout to progress',
    );
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }).then(async (response) => ({ status: response.status, text: await response.text() }));
    const messages = [{ role: 'user', content: 'Recommend a book' }];
    const answers = await Promise.all([
      post('/v1/chat/completions', { messages }, { 'x-inference-canary': 'never' }),
      post('/v1/chat/completions', { messages, stream: true }, { 'x-inference-canary': 'never' }),
      post('/v1/chat/completions', { messages }, { 'x-inference-canary': 'always' }),
      post('/v1/embeddings', { model: 'embed', input: 'a book' }),
    ]);
    statuses = answers.map((answer) => answer.status);
    probes = [(await get('/health/ready')).status, (await get('/health/live')).status];
    live = (await get('/metrics')).text;
    await app.close();
    app = undefined;
    // What the process holds once it has shut down: the shutdown's durations.
    afterShutdown = await prometheus.text();
    series = seriesLabels(`${live}\n${afterShutdown}`);
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await Promise.all([legacy?.close(), next?.close()]);
    for (const name of [...Object.keys(ENV), 'INFERENCE_BASE_URL', 'CANARY_BASE_URL']) {
      delete process.env[name];
    }
  });

  it('the traffic that fills the metrics was served, and the probes’ routes answer', () => {
    // Unary and streamed on stable, unary on the failing canary (retried, then a fallback),
    // embeddings.
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(probes).toEqual([200, 200]);
    expect(next.attempts).toBeGreaterThan(1);
  });

  it('the sample exports every metric the kit reads', () => {
    expect([...series.keys()]).toEqual(expect.arrayContaining(EXPORTED));
    expect(series.get('inference_shutdown_duration_sum')).toEqual(
      new Set(['inference_shutdown_phase']),
    );
    expect(afterShutdown).toMatch(/inference_shutdown_duration_count\{[^}]*"total"\} 1\n/);
  });

  it.each([
    ['the dashboard', dashboardExpressions],
    ['the alerts', alertExpressions],
  ])('%s query only metrics and labels the sample exports', (_, expressions) => {
    const queries = expressions();
    expect(queries.length).toBeGreaterThan(5);
    for (const expr of queries) {
      const { metrics, labels } = references(expr);
      for (const metric of metrics) expect(series.has(metric), `${metric} in ${expr}`).toBe(true);
      const known = new Set([
        ...TARGET_LABELS,
        ...metrics.flatMap((metric) => [...series.get(metric)!]),
      ]);
      for (const label of labels) expect(known.has(label), `${label} in ${expr}`).toBe(true);
    }
  });

  it('the dashboard has unique panel ids, on the 24-column grid, on the chosen data source', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      uid: string;
      panels: {
        id: number;
        type: string;
        gridPos: { x: number; w: number };
        datasource?: { uid: string };
      }[];
    };
    expect(dashboard.uid).toBe('nestjs-inference');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
    }
    const queried = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(queried.length).toBeGreaterThan(10);
    expect(new Set(queried.map((panel) => panel.datasource?.uid))).toEqual(
      new Set(['${datasource}']),
    );
  });

  describe.runIf(PROMTOOL)('promtool', () => {
    it('accepts the alerting rules', () => {
      const result = run(PROMTOOL!, ['check', 'rules', ALERTS]);
      expect(result.output).toMatch(/SUCCESS: 6 rules found/);
      expect(result.status).toBe(0);
    });

    it('passes the alerts’ unit tests (deploy/prometheus/alerts.test.yml)', () => {
      const result = run(PROMTOOL!, ['test', 'rules', ALERT_TESTS]);
      expect(result.output).toMatch(/SUCCESS/);
      expect(result.status).toBe(0);
    });

    it('parses every dashboard query', () => {
      const dir = mkdtempSync(join(tmpdir(), 'dashboard-rules-'));
      try {
        const rules = dashboardExpressions().map((expr, i) => ({
          record: `dashboard:query_${i}`,
          expr: asPromQl(expr),
        }));
        writeFileSync(
          join(dir, 'rules.yml'),
          stringify({ groups: [{ name: 'dashboard', rules }] }),
        );
        const result = run(PROMTOOL!, ['check', 'rules', join(dir, 'rules.yml')]);
        expect(result.output).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
        expect(result.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it.each([
      ['while serving', () => live],
      ['after shutdown', () => afterShutdown],
    ])('finds nothing wrong with the sample’s /metrics %s', (_, text) => {
      const result = run(PROMTOOL!, ['check', 'metrics'], text());
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    });
  });
});
