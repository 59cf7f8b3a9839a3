import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, registerAs } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InferenceModule,
  InferenceOptionsError,
  InferenceService,
  InflightRegistry,
  type InferenceModuleOptions,
} from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { ProviderRegistry } from '../../lib/client/provider.registry.js';
import { InferenceRouter } from '../../lib/routing/inference.router.js';
import { ModelCatalog } from '../../lib/model/model-catalog.js';
import { InferenceTelemetry } from '../../lib/telemetry/inference.telemetry.js';
import { CallPipeline } from '../../lib/call/call.pipeline.js';

let sim: SimulatedProvider;
beforeAll(async () => {
  sim = await SimulatedProvider.start({ chunks: 2 });
});
afterAll(async () => sim.close());

const options = (): InferenceModuleOptions => ({
  providers: { sim: { baseUrl: sim.baseUrl, apiKey: 'sk-module-test', defaultModel: 'm' } },
});

/** Injected without @Inject: resolves only when decorator metadata was emitted. */
@Injectable()
class Consumer {
  constructor(readonly inference: InferenceService) {}
}

/** A feature module that does not import InferenceModule itself. */
@Module({ providers: [Consumer] })
class FeatureModule {}

const paths = {
  forRoot: (isGlobal?: boolean) => InferenceModule.forRoot({ ...options(), isGlobal }),
  forRootAsync: (isGlobal?: boolean) =>
    InferenceModule.forRootAsync({ useFactory: async () => options(), isGlobal }),
};

describe.each(Object.entries(paths))('InferenceModule.%s', (_name, build) => {
  it('provides a working InferenceService', async () => {
    const app = await Test.createTestingModule({ imports: [build()] }).compile();
    const result = await app
      .get(InferenceService)
      .chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(result.choices[0]!.message.content).toBe('tok0 tok1 ');
    await app.close();
  });

  it('honours isGlobal: a module that does not import it can inject the service', async () => {
    const app = await Test.createTestingModule({ imports: [build(true), FeatureModule] }).compile();
    expect(app.get(Consumer).inference).toBeInstanceOf(InferenceService);
    await app.close();
  });

  it('is not global unless asked', async () => {
    await expect(
      Test.createTestingModule({ imports: [build(false), FeatureModule] }).compile(),
    ).rejects.toThrow(/InferenceService/);
  });
});

describe('bad options fail at startup on both paths', () => {
  const bad = { providers: { next: { baseUrl: 'https://api.example.com/v1', apiKey: '' } } };
  it('forRoot', async () => {
    await expect(
      Test.createTestingModule({ imports: [InferenceModule.forRoot(bad)] }).compile(),
    ).rejects.toThrow(/providers\.next\.apiKey is empty/);
  });
  it('forRootAsync', async () => {
    const compile = Test.createTestingModule({
      imports: [InferenceModule.forRootAsync({ useFactory: () => bad })],
    }).compile();
    await expect(compile).rejects.toBeInstanceOf(InferenceOptionsError);
  });
});

describe('with @nestjs/config', () => {
  it('accepts forRootAsync(config.asProvider()) from a registerAs factory', async () => {
    const inferenceConfig = registerAs('inference', (): InferenceModuleOptions => ({
      providers: {
        sim: { baseUrl: process.env.SIM_URL ?? '', apiKey: 'sk-from-config', defaultModel: 'm' },
      },
    }));
    process.env.SIM_URL = sim.baseUrl;
    const app = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true }),
        InferenceModule.forRootAsync(inferenceConfig.asProvider()),
      ],
    }).compile();
    const result = await app
      .get(InferenceService)
      .chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(result.inference.provider).toBe('sim');
    await app.close();
    delete process.env.SIM_URL;
  });
});

describe('decorator metadata', () => {
  it('is emitted, so constructor injection works without @Inject', () => {
    expect(Reflect.getMetadata('design:paramtypes', Consumer)).toEqual([InferenceService]);
    expect(Reflect.getMetadata('design:paramtypes', InferenceService)).toEqual([
      CallPipeline,
      InferenceRouter,
    ]);
    expect(Reflect.getMetadata('design:paramtypes', CallPipeline).slice(0, 5)).toEqual([
      ProviderRegistry,
      InflightRegistry,
      InferenceRouter,
      ModelCatalog,
      InferenceTelemetry,
    ]);
  });
});
