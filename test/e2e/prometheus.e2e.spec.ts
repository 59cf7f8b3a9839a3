import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceModule, InferenceService } from '../../lib/index.js';
import { InferencePrometheus } from '../../lib/prometheus/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { TEST_API_KEY } from '../support/inference-harness.js';

const prompt = { messages: [{ role: 'user' as const, content: 'Recommend a book' }] };

describe('Prometheus exposition (nestjs-inference/prometheus), read by a real text-format parser', () => {
  let provider: SimulatedProvider;
  let app: INestApplicationContext;
  let prometheus: InferencePrometheus;
  let families: Map<string, MetricFamily>;
  let text: string;

  beforeAll(async () => {
    provider = await SimulatedProvider.start({
      apiKey: TEST_API_KEY,
      chunks: 4,
      usage: { promptTokens: 30, completionTokens: 4 },
    });
    prometheus = new InferencePrometheus();
    const moduleRef = await Test.createTestingModule({
      imports: [
        InferenceModule.forRoot({
          providers: {
            legacy: {
              baseUrl: provider.baseUrl,
              apiKey: TEST_API_KEY,
              defaultModel: 'gpt-4.1',
              prices: { 'gpt-4.1': { input: 2, output: 8 } },
            },
          },
          telemetry: { meterProvider: prometheus.meterProvider },
        }),
      ],
    }).compile();
    app = await moduleRef.init();
    const service = app.get(InferenceService);
    await service.chat(prompt);
    await service.chat({ ...prompt, model: 'a-model-from-the-request' });
    for await (const _chunk of service.stream(prompt)) {
      // read to the end
    }
    text = await prometheus.text();
    families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  });
  afterAll(async () => {
    await app.close();
    await prometheus.shutdown();
    await provider.close();
  });

  it.each([
    ['gen_ai_client_operation_duration', 'HISTOGRAM'],
    ['gen_ai_client_token_usage', 'HISTOGRAM'],
    ['gen_ai_client_operation_time_to_first_chunk', 'HISTOGRAM'],
    ['gen_ai_client_operation_time_per_output_chunk', 'HISTOGRAM'],
    ['inference_client_cost_total', 'COUNTER'],
    ['inference_requests_in_flight', 'GAUGE'],
    ['inference_requests_ended_total', 'COUNTER'],
  ])('exposes %s as a %s, with HELP', (name, type) => {
    const family = families.get(name);
    expect(family, `${name} in:\n${text}`).toBeDefined();
    expect(family!.type).toBe(type);
    expect(family!.help.length).toBeGreaterThan(10);
    expect(text).toMatch(new RegExp(`^# UNIT ${name} \\S+$`, 'm'));
  });

  it('uses histograms with the GenAI buckets, never summaries', () => {
    expect([...families.values()].filter((family) => family.type === 'SUMMARY')).toEqual([]);
    const duration = families.get('gen_ai_client_operation_duration')!;
    const buckets = Object.keys(duration.metrics[0]!.buckets!);
    expect(buckets).toEqual(expect.arrayContaining(['0.01', '0.32', '81.92', '+Inf']));
    expect(text).toMatch(
      /# UNIT gen_ai_client_operation_duration seconds|# TYPE gen_ai_client_operation_duration histogram/,
    );
  });

  it('labels by operation, provider, configured model and streaming', () => {
    const cost = families.get('inference_client_cost_total')!;
    expect(cost.metrics.map((metric) => metric.labels)).toContainEqual({
      gen_ai_operation_name: 'chat',
      gen_ai_provider_name: 'legacy',
      gen_ai_request_model: 'gpt-4.1',
      inference_streaming: 'true',
      inference_cost_estimated: 'false',
    });
    // The parser flattens labelled histograms into one series, so their label sets are read
    // from the `_count` samples it has already accepted as part of the family.
    const series = histogramLabels('gen_ai_client_operation_duration');
    expect(series).toContainEqual({
      gen_ai_operation_name: 'chat',
      gen_ai_provider_name: 'legacy',
      gen_ai_request_model: 'gpt-4.1',
      inference_streaming: 'false',
    });
    const models = series.map((labels) => labels.gen_ai_request_model);
    expect(models).toContain('other'); // the model the request named is not a label value
    expect(models).not.toContain('a-model-from-the-request');
    const tokenTypes = histogramLabels('gen_ai_client_token_usage').map(
      (labels) => labels.gen_ai_token_type,
    );
    expect(new Set(tokenTypes)).toEqual(new Set(['input', 'output']));
  });

  function histogramLabels(name: string): Record<string, string>[] {
    expect(families.get(name)?.type).toBe('HISTOGRAM');
    return [...text.matchAll(new RegExp(`^${name}_count\\{([^}]*)\\} `, 'gm'))].map((match) =>
      Object.fromEntries(
        [...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((label) => [label[1]!, label[2]!]),
      ),
    );
  }

  it('counts cost in US dollars', () => {
    const cost = families.get('inference_client_cost_total')!;
    const total = cost.metrics.reduce((sum, metric) => sum + Number(metric.value), 0);
    // Three calls of 30 input and 4 output tokens; the one on an unpriced model costs nothing known.
    expect(total).toBeCloseTo((2 * (30 * 2 + 4 * 8)) / 1e6, 12);
  });
});
