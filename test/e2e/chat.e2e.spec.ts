import { afterEach, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { collect, hello, startHarness, type Harness } from '../support/inference-harness.js';

describe('InferenceService over real HTTP', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('returns a parsed completion with usage and metadata', async () => {
    h = await startHarness({ chunks: 3 });
    const result = await h.service.chat(hello);
    expect(result.choices[0]!.message.content).toBe('tok0 tok1 tok2 ');
    expect(result.usage).toMatchObject({ completion_tokens: 3 });
    expect(result.inference).toMatchObject({
      provider: 'sim',
      model: 'sim-model',
      attempts: 1,
      upstreamRequestId: 'sim-1',
    });
    expect(JSON.stringify(result)).not.toContain('inference');
    expect(h.provider.requests[0]!.body).toMatchObject({ model: 'sim-model', stream: false });
  });

  it('streams chunks as an Observable and as an async iterable', async () => {
    h = await startHarness({ chunks: 4 });
    const viaRx = await lastValueFrom(h.service.stream(hello).pipe(toArray()));
    const viaIterator = await collect(h.service.stream(hello));
    for (const chunks of [viaRx, viaIterator]) {
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
        'tok0 tok1 tok2 tok3 ',
      );
      expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
      expect(chunks.every((c) => !('usage' in c))).toBe(true);
    }
    expect(h.provider.requests[0]!.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});
