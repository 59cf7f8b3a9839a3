import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { inspect } from 'node:util';
import {
  InferenceModule,
  type InferenceError,
  InferenceService,
  type InferenceModuleOptions,
  type ProviderOptions,
} from '../../lib/index.js';
import { ProviderRegistry } from '../../lib/client/provider.registry.js';
import { SimulatedProvider, type SimulatedProviderOptions } from '../../lib/testing/index.js';

export const TEST_API_KEY = 'sk-test-0123456789abcdef-SECRET';

/** Every line the Nest logger printed during a harness's life. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown, ...rest: unknown[]) {
    this.#add('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.#add('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.#add('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.#add('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.#add('verbose', message, rest);
  }
  #add(level: string, message: unknown, rest: unknown[]) {
    this.lines.push(
      `${level} ${inspect(message, { depth: 5 })} ${rest.map((r) => inspect(r, { depth: 5 })).join(' ')}`,
    );
  }
}

export interface Harness {
  logger: CapturingLogger;
  provider: SimulatedProvider;
  service: InferenceService;
  registry: ProviderRegistry;
  app: INestApplicationContext;
  close(): Promise<void>;
}

/** A simulated provider and an app context with `InferenceModule` pointed at it. */
export async function startHarness(
  simulated: SimulatedProviderOptions = {},
  provider: Partial<ProviderOptions> = {},
  module: Partial<InferenceModuleOptions> = {},
): Promise<Harness> {
  const sim = await SimulatedProvider.start({ apiKey: TEST_API_KEY, ...simulated });
  const logger = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      InferenceModule.forRoot({
        providers: {
          sim: {
            baseUrl: sim.baseUrl,
            apiKey: TEST_API_KEY,
            defaultModel: 'sim-model',
            ...provider,
            retry: { baseDelayMs: 1, maxDelayMs: 20, ...provider.retry },
          },
        },
        ...module,
      }),
    ],
  })
    .setLogger(logger)
    .compile();
  const app = await moduleRef.init();
  return {
    logger,
    provider: sim,
    service: app.get(InferenceService),
    registry: app.get(ProviderRegistry),
    app,
    async close() {
      await app.close();
      await sim.close();
    },
  };
}

export const hello = { messages: [{ role: 'user' as const, content: 'Hello there' }] };

/** Collects every chunk of an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** The error a call fails with; fails the test if the call succeeds. */
export async function failure(promise: Promise<unknown>): Promise<InferenceError> {
  try {
    await promise;
  } catch (error) {
    return error as InferenceError;
  }
  throw new Error('expected the call to fail');
}
