import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedProvider, type SimulatedProviderOptions } from '../../../lib/testing/index.js';
import { waitFor } from '../../support/wait-for.js';

// The provider keeps a bounded history, but its counters stay exact over every request.
describe('SimulatedProvider request history', () => {
  let agent: Agent;
  const providers: SimulatedProvider[] = [];

  beforeEach(() => {
    agent = new Agent({ connections: 16 });
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((provider) => provider.close()));
    await agent.close();
  });

  async function start(options: SimulatedProviderOptions): Promise<SimulatedProvider> {
    const provider = await SimulatedProvider.start(options);
    providers.push(provider);
    return provider;
  }

  async function chat(provider: SimulatedProvider, signal?: AbortSignal): Promise<number> {
    const response = await request(`${provider.baseUrl}/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      signal,
    });
    await response.body.dump();
    return response.statusCode;
  }

  async function embed(provider: SimulatedProvider): Promise<number> {
    const response = await request(`${provider.baseUrl}/embeddings`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'hi' }),
    });
    await response.body.dump();
    return response.statusCode;
  }

  async function models(provider: SimulatedProvider): Promise<number> {
    const response = await request(`${provider.baseUrl}/models`, { dispatcher: agent });
    await response.body.dump();
    return response.statusCode;
  }

  it('keeps the last keepRequests requests, and counts every attempt', async () => {
    const provider = await start({ keepRequests: 3 });
    for (let i = 0; i < 4; i++) expect(await chat(provider)).toBe(200);
    for (let i = 0; i < 3; i++) expect(await embed(provider)).toBe(200);
    for (let i = 0; i < 3; i++) expect(await models(provider)).toBe(200);
    await provider.settled();

    expect(provider.requests.map((r) => [r.seq, r.path])).toEqual([
      [8, '/v1/models'],
      [9, '/v1/models'],
      [10, '/v1/models'],
    ]);
    expect(provider.attempts).toBe(7); // chat completions and embeddings, not the model lists
    expect(provider.inProgress).toBe(0);
    expect(provider.aborted).toBe(0);
  });

  it('keeps 1,000 requests by default', async () => {
    const provider = await start({});
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 101 }, () => models(provider)));
    }
    await provider.settled();
    expect(provider.requests).toHaveLength(1_000);
    expect(provider.requests[0]!.seq).toBe(11);
    expect(provider.requests.at(-1)!.seq).toBe(1_010);
  });

  it('counts requests in progress and aborted ones that are no longer kept', async () => {
    const provider = await start({ keepRequests: 1, latency: { firstByteMs: 400 } });
    const controller = new AbortController();
    const aborted = Array.from({ length: 3 }, () =>
      chat(provider, controller.signal).catch(() => 'aborted'),
    );
    const served = Array.from({ length: 2 }, () => chat(provider));
    await waitFor(() => provider.inProgress === 5, 'five requests in progress');
    expect(provider.requests).toHaveLength(1);

    controller.abort();
    expect(await Promise.all(aborted)).toEqual(['aborted', 'aborted', 'aborted']);
    await waitFor(() => provider.aborted === 3, 'three aborted');
    expect(provider.inProgress).toBe(2);

    expect(await Promise.all(served)).toEqual([200, 200]);
    await provider.settled();
    expect(provider.inProgress).toBe(0);
    expect(provider.aborted).toBe(3);
    expect(provider.attempts).toBe(5);
  });

  it('counts a faulted request once, and never as aborted', async () => {
    const provider = await start({ keepRequests: 0 });
    provider.failNext({ type: 'status', status: 503 });
    provider.failNext({ type: 'reset-before-headers' });
    expect(await chat(provider)).toBe(503);
    await expect(chat(provider)).rejects.toThrow();
    expect(await chat(provider)).toBe(200);
    await provider.settled();
    expect(provider.requests).toEqual([]);
    expect(provider.attempts).toBe(3);
    expect(provider.inProgress).toBe(0);
    expect(provider.aborted).toBe(0);
  });

  it('reset() forgets the counts, and requests from before it stop counting', async () => {
    const provider = await start({ keepRequests: 10, latency: { firstByteMs: 300 } });
    const controller = new AbortController();
    const before = chat(provider, controller.signal).catch(() => 'aborted');
    await waitFor(() => provider.inProgress === 1, 'one request in progress');

    provider.reset();
    expect([provider.attempts, provider.inProgress, provider.aborted]).toEqual([0, 0, 0]);
    controller.abort();
    expect(await before).toBe('aborted');
    await delay(50);
    expect([provider.attempts, provider.inProgress, provider.aborted]).toEqual([0, 0, 0]);

    expect(await chat(provider)).toBe(200);
    await provider.settled();
    expect(provider.requests.map((r) => r.seq)).toEqual([1]);
    expect([provider.attempts, provider.inProgress, provider.aborted]).toEqual([1, 0, 0]);
  });

  it('applies a smaller keepRequests from configure() at the next request', async () => {
    const provider = await start({});
    for (let i = 0; i < 5; i++) await models(provider);
    provider.configure({ keepRequests: 2 });
    await models(provider);
    expect(provider.requests.map((r) => r.seq)).toEqual([5, 6]);
  });

  it('rejects a keepRequests that is not a whole number', async () => {
    await expect(SimulatedProvider.start({ keepRequests: -1 })).rejects.toThrow(
      /keepRequests must be a whole number/,
    );
    const provider = await start({});
    expect(() => provider.configure({ keepRequests: 1.5 })).toThrow(/keepRequests/);
  });
});
