import OpenAI, { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapters, type AdapterName } from '../../../test/support/http-app.js';
import { startSampleApp, type SampleApp } from '../support/sample-app.js';

const ENV = {
  // A default model that nothing else names: the list must follow the configuration.
  CANARY_MODEL: 'deepseek-v3.2-exp',
  ROLLOUT_AUTOSTART: 'false',
};

describe.each(Object.keys(adapters) as AdapterName[])(
  'sample gateway models on %s, with the openai SDK',
  (adapter) => {
    let sample: SampleApp;
    let url: string;
    let client: OpenAI;
    let startedAt: number;

    beforeAll(async () => {
      startedAt = Math.floor(Date.now() / 1000);
      sample = await startSampleApp(adapter, ENV);
      ({ url } = sample);
      client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused-by-the-gateway', maxRetries: 0 });
    });
    afterAll(() => sample.close());

    it('lists the logical models and each provider’s own, in OpenAI’s shape', async () => {
      const page = await client.models.list();
      const models = [];
      for await (const model of page) models.push(model);

      expect(models.map((model) => [model.id, model.owned_by])).toEqual([
        ['chat', 'gateway'],
        ['embed', 'gateway'],
        ['recommend', 'gateway'],
        ['bge-m3', 'next'],
        ['deepseek-v3.2', 'next'],
        ['deepseek-v3.2-exp', 'next'],
        ['gpt-4.1', 'legacy'],
        ['gpt-4.1-mini', 'legacy'],
        ['text-embedding-3-small', 'legacy'],
      ]);
      for (const model of models) {
        expect(Object.keys(model).toSorted()).toEqual(['created', 'id', 'object', 'owned_by']);
        expect(model.object).toBe('model');
        expect(model.created).toBeGreaterThanOrEqual(startedAt);
        expect(model.created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      }
      const raw = (await (await fetch(`${url}/v1/models`)).json()) as Record<string, unknown>;
      expect(Object.keys(raw).toSorted()).toEqual(['data', 'object']);
      expect(raw.object).toBe('list');
    });

    it('retrieves one model, logical or a provider’s own', async () => {
      await expect(client.models.retrieve('recommend')).resolves.toMatchObject({
        id: 'recommend',
        object: 'model',
        owned_by: 'gateway',
      });
      await expect(client.models.retrieve('gpt-4.1-mini')).resolves.toMatchObject({
        id: 'gpt-4.1-mini',
        object: 'model',
        owned_by: 'legacy',
      });
    });

    it.each(['gpt-5', 'org/unknown-model'])(
      'answers an unknown model (%s) with 404 in OpenAI’s error shape',
      async (id) => {
        const error = await client.models.retrieve(id).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NotFoundError);
        const notFound = error as NotFoundError;
        expect(notFound.status).toBe(404);
        expect(notFound.code).toBe('model_not_found');
        expect(notFound.type).toBe('invalid_request_error');
        expect(notFound.param).toBe('model');

        const response = await fetch(`${url}/v1/models/${encodeURIComponent(id)}`);
        expect(response.status).toBe(404);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await response.json()).toEqual({
          error: {
            message: `The model '${id}' does not exist or you do not have access to it.`,
            type: 'invalid_request_error',
            code: 'model_not_found',
            param: 'model',
            request_id: response.headers.get('x-request-id'),
          },
        });
      },
    );
  },
);
