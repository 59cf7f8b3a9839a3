import 'reflect-metadata';
import {
  Controller,
  Get,
  Injectable,
  Post,
  UseInterceptors,
  type INestApplication,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InferenceExceptionFilter,
  InferenceInterceptor,
  InferenceModule,
  InferenceService,
  InferenceShutdownError,
  InflightRegistry,
  enableInferenceShutdownHooks,
  ShutdownCoordinator,
  httpStatusOf,
  type InferenceModuleOptions,
  type ShutdownEvent,
} from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { adapters, type AdapterName } from '../support/http-app.js';
import { CapturingLogger, TEST_API_KEY, hello } from '../support/inference-harness.js';
import { waitFor } from '../support/wait-for.js';

/** What happened, in order: shutdown phases, the summary, and the app's own hooks. */
const timeline: string[] = [];
let releaseSecondCall: () => void = () => undefined;

@Injectable()
class Database implements OnModuleDestroy {
  open = true;
  onModuleDestroy(): void {
    this.open = false;
    timeline.push('app:onModuleDestroy');
  }
}

@Controller('lab')
class LabController {
  constructor(
    private readonly inference: InferenceService,
    private readonly database: Database,
  ) {}

  /** Two upstream calls, the second one after the test lets it go (by then the app drains). */
  @Post('two-calls')
  async twoCalls(): Promise<{ first: string; second: string; databaseOpen: boolean }> {
    const first = await this.inference.chat(hello);
    await new Promise<void>((resolve) => (releaseSecondCall = resolve));
    const second = await this.inference.chat(hello);
    return {
      first: first.choices[0]!.message.content!,
      second: second.choices[0]!.message.content!,
      databaseOpen: this.database.open,
    };
  }

  @Get('stream')
  async stream(): Promise<string> {
    let text = '';
    for await (const chunk of this.inference.stream(hello)) text += chunk.choices[0]?.delta.content;
    return text;
  }
}

@Controller('plain')
@UseInterceptors(InferenceInterceptor)
class PlainController {
  constructor(private readonly inference: InferenceService) {}

  @Get(':id')
  async get(): Promise<string> {
    const answer = await this.inference.chat(hello);
    return answer.choices[0]!.message.content!;
  }
}

async function startApp(
  adapter: AdapterName,
  provider: SimulatedProvider,
  options: Partial<InferenceModuleOptions> & { globalInterceptor?: boolean } = {},
  logger: CapturingLogger | false = false,
): Promise<{ app: INestApplication; url: string }> {
  const { globalInterceptor, ...moduleOptions } = options;
  const moduleRef = await Test.createTestingModule({
    imports: [
      InferenceModule.forRoot({
        providers: {
          sim: { baseUrl: provider.baseUrl, apiKey: TEST_API_KEY, defaultModel: 'sim-model' },
        },
        globalInterceptor,
        ...moduleOptions,
      }),
    ],
    controllers: [LabController, PlainController],
    providers: [Database, { provide: APP_FILTER, useClass: InferenceExceptionFilter }],
  }).compile();
  const app = moduleRef.createNestApplication(adapters[adapter](), {
    logger: logger === false ? false : logger,
  });
  enableInferenceShutdownHooks(app); // On Nest 11, app.close() drains first only with it.
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

describe.each(['express', 'fastify'] as const)('the drain, in process, on %s', (adapter) => {
  let provider: SimulatedProvider | undefined;
  let app: INestApplication | undefined;
  afterEach(async () => {
    releaseSecondCall();
    await app?.close();
    await provider?.close();
    app = undefined;
    provider = undefined;
    timeline.length = 0;
  });

  it('drains before the app’s hooks; an in-flight request may still call upstream, other work is refused', async () => {
    provider = await SimulatedProvider.start({
      apiKey: TEST_API_KEY,
      chunks: 3,
      latency: { firstByteMs: 50 },
    });
    let url: string;
    ({ app, url } = await startApp(adapter, provider));
    const registry = app.get(InflightRegistry);
    const coordinator = app.get(ShutdownCoordinator);
    const events: ShutdownEvent[] = [];
    coordinator.subscribe((event) => {
      events.push(event);
      timeline.push(event.type === 'phase' ? `phase:${event.phase}` : 'summary');
    });

    const pending = request(`${url}/lab/two-calls`, {
      method: 'POST',
      headers: { 'x-request-id': 'req-42' },
    });
    await waitFor(
      () => registry.list().some((entry) => entry.state === 'awaiting-upstream'),
      'the first call',
    );
    expect(registry.list()).toEqual([
      expect.objectContaining({
        kind: 'request',
        id: 'req-42',
        route: 'POST /lab/two-calls',
        provider: 'sim',
        model: 'sim-model',
        state: 'awaiting-upstream',
      }),
    ]);
    await waitFor(() => registry.list()[0]?.state === 'handling', 'the first call to end');
    expect(coordinator.ready).toBe(true);

    const closing = app.close();
    await waitFor(() => coordinator.phase === 'draining', 'the drain');
    expect(coordinator.ready).toBe(false);
    // Work that is not part of an in-flight request is refused, typed and retryable.
    const refused = await app
      .get(InferenceService)
      .chat(hello)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InferenceShutdownError);
    expect(refused).toMatchObject({ phase: 'shutdown', retryable: true, retryAfterMs: 1_000 });
    expect(httpStatusOf(refused as InferenceShutdownError)).toBe(503);

    // The in-flight request's second call goes ahead, and the app's database is still open.
    releaseSecondCall();
    const response = await pending;
    expect(response.statusCode).toBe(201);
    expect(await response.body.json()).toEqual({
      first: 'tok0 tok1 tok2 ',
      second: 'tok0 tok1 tok2 ',
      databaseOpen: true,
    });
    await closing;
    app = undefined;
    expect(timeline).toEqual([
      'phase:readiness-delay',
      'phase:draining',
      'phase:closing',
      'summary',
      'app:onModuleDestroy',
    ]);
    const summary = events.find((event) => event.type === 'summary');
    expect(summary).toMatchObject({
      summary: { completed: 1, rejected: 1, abandoned: 0, forced: false },
    });
  });

  it('lists a stream as streaming, and tracks routes of a controller-level interceptor', async () => {
    provider = await SimulatedProvider.start({
      apiKey: TEST_API_KEY,
      chunks: 20,
      latency: { perChunkMs: 30 },
    });
    let url: string;
    ({ app, url } = await startApp(adapter, provider, { globalInterceptor: false }));
    const registry = app.get(InflightRegistry);
    const stream = request(`${url}/lab/stream`);
    const plain = request(`${url}/plain/7`);
    await waitFor(
      () => registry.list().some((entry) => entry.state === 'streaming'),
      'the stream to deliver chunks',
    );
    const entries = registry.list();
    // Without the global interceptor, the lab route is tracked by the server only, and its
    // stream is a call of its own; the controller with the interceptor is tracked by route.
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'request', route: undefined, state: 'received' }),
        expect.objectContaining({ kind: 'call', provider: 'sim', state: 'streaming' }),
        expect.objectContaining({ kind: 'request', route: 'GET /plain/:id', provider: 'sim' }),
      ]),
    );
    expect(registry.streaming).toBe(1);
    expect(await (await stream).body.text()).toMatch(/^tok0 tok1/);
    await (await plain).body.dump();
    await waitFor(() => registry.size === 0, 'both requests to end');
  });

  it('at the deadline stops upstream calls, logs what it abandoned and lets the app close', async () => {
    provider = await SimulatedProvider.start({
      apiKey: TEST_API_KEY,
      chunks: 50,
      latency: { perChunkMs: 100 },
    });
    const logger = new CapturingLogger();
    let url: string;
    ({ app, url } = await startApp(
      adapter,
      provider,
      { shutdown: { drainTimeoutMs: 300, abandonGraceMs: 500 } },
      logger,
    ));
    const registry = app.get(InflightRegistry);
    const stream = request(`${url}/lab/stream`, { headers: { 'x-request-id': 'stuck-stream' } });
    await waitFor(() => registry.streaming === 1, 'the stream');
    const startedAt = Date.now();
    await app.close();
    app = undefined;
    expect(Date.now() - startedAt).toBeLessThan(300 + 500 + 500);
    const response = await stream;
    // The handler's loop failed with the shutdown error: Nest answered 503.
    expect(response.statusCode).toBe(503);
    await response.body.dump();
    await provider.settled();
    expect(provider.aborted).toBe(1);
    const warnings = logger.lines.filter((line) => line.startsWith('warn')).join('\n');
    expect(warnings).toMatch(/the drain deadline ended the drain with 1 in flight/);
    expect(warnings).toMatch(/abandoned request stuck-stream \(GET \/lab\/stream\), streaming/);
    expect(logger.lines.join('\n')).not.toContain(TEST_API_KEY);
  });

  it('warns at startup when the shutdown budget outlasts the termination grace period', async () => {
    provider = await SimulatedProvider.start({ apiKey: TEST_API_KEY });
    const logger = new CapturingLogger();
    ({ app } = await startApp(
      adapter,
      provider,
      {
        shutdown: {
          readinessDelayMs: 0,
          drainTimeoutMs: 40_000,
          terminationGracePeriodMs: 30_000,
        },
      },
      logger,
    ));
    expect(logger.lines.filter((line) => line.startsWith('warn')).join('\n')).toMatch(
      /readinessDelayMs \+ drainTimeoutMs \+ abandonGraceMs is 41000 ms, above terminationGracePeriodMs \(30000 ms\)/,
    );
  });
});
