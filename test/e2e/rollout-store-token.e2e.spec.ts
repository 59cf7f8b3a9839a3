import 'reflect-metadata';
import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CanaryRollout,
  MemoryRolloutStore,
  ROLLOUT_STORE,
  type RolloutStore,
} from '../../lib/canary/index.js';
import {
  InferenceModule,
  type CanaryOptions,
  type InferenceModuleOptions,
} from '../../lib/index.js';
import { SimulatedProvider } from '../../lib/testing/index.js';
import { CapturingLogger, TEST_API_KEY } from '../support/inference-harness.js';

/** A client the app's own module provides, as a Redis connection would be. */
const STORE_CLIENT = Symbol('store-client');

/** The app's own module: provides `token` with `value`, and exports it. */
function ownModule(token: symbol, value: unknown, global = false): DynamicModule {
  return {
    module: class OwnStoreModule {},
    global,
    providers: [{ provide: token, useValue: value }],
    exports: [token],
  };
}

const CONFLICT = /canary\.store and a provider under ROLLOUT_STORE are both given/;

describe('the rollout store given by the ROLLOUT_STORE token or the canary.store option', () => {
  let legacy: SimulatedProvider;
  let next: SimulatedProvider;
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    [legacy, next] = await Promise.all([
      SimulatedProvider.start({ apiKey: TEST_API_KEY }),
      SimulatedProvider.start({ apiKey: TEST_API_KEY }),
    ]);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await Promise.all([legacy.close(), next.close()]);
  });

  /** Two providers and a rollout that starts at boot straight into one long 50% phase. */
  function options(canary: Partial<CanaryOptions> = {}): InferenceModuleOptions {
    return {
      providers: {
        legacy: { baseUrl: legacy.baseUrl, apiKey: TEST_API_KEY },
        next: { baseUrl: next.baseUrl, apiKey: TEST_API_KEY },
      },
      defaultProvider: 'legacy',
      canary: {
        stable: 'legacy',
        canary: 'next',
        phases: [{ weight: 50, durationMs: 3_600_000 }],
        warmup: { probes: 0 },
        autoStart: true,
        ...canary,
      },
    };
  }

  async function boot(
    imports: DynamicModule[],
    override: (builder: TestingModuleBuilder) => TestingModuleBuilder = (builder) => builder,
  ): Promise<{ rollout: CanaryRollout; warnings: string[] }> {
    const logger = new CapturingLogger();
    const builder = override(Test.createTestingModule({ imports }));
    builder.setLogger(logger);
    const app = await (await builder.compile()).init();
    apps.push(app);
    return {
      rollout: app.get(CanaryRollout),
      warnings: logger.lines.filter((line) => line.startsWith('warn')),
    };
  }

  /** The rollout this app started at boot is the one `store` holds. */
  async function expectHeldBy(store: RolloutStore, rollout: CanaryRollout): Promise<void> {
    expect(rollout.state.status).toBe('progressing');
    expect(await store.read()).toMatchObject({
      status: 'progressing',
      rolloutId: rollout.state.rolloutId,
      version: rollout.state.version,
    });
  }

  it('uses the store given by the module extra rolloutStore (forRoot)', async () => {
    const store = new MemoryRolloutStore();
    const { rollout, warnings } = await boot([
      InferenceModule.forRoot({ ...options(), rolloutStore: { useValue: store } }),
    ]);
    await expectHeldBy(store, rollout);
    expect(warnings.join('\n')).not.toMatch(CONFLICT);
  });

  it('uses the store given by the extra on the async path, built from what imports provide', async () => {
    const store = new MemoryRolloutStore();
    const { rollout } = await boot([
      InferenceModule.forRootAsync({
        imports: [ownModule(STORE_CLIENT, store)],
        useFactory: () => options(),
        rolloutStore: { useFactory: (client: RolloutStore) => client, inject: [STORE_CLIENT] },
      }),
    ]);
    await expectHeldBy(store, rollout);
  });

  it('uses ROLLOUT_STORE from the app own module: two replicas share one rollout through it', async () => {
    const shared = new MemoryRolloutStore();
    const replica = (autoStart: boolean) =>
      boot([
        InferenceModule.forRootAsync({
          imports: [ownModule(ROLLOUT_STORE, shared)],
          useFactory: () => options({ autoStart }),
        }),
      ]);
    const a = await replica(true);
    const b = await replica(false);
    await expectHeldBy(shared, a.rollout);
    // b started nothing: it adopted the rollout a started, from the store they share.
    expect(b.rollout.state).toEqual(a.rollout.state);
    expect(b.rollout.weightBps).toBe(5_000);
  });

  it('uses ROLLOUT_STORE from a global module with forRoot', async () => {
    const store = new MemoryRolloutStore();
    const { rollout } = await boot([
      ownModule(ROLLOUT_STORE, store, true),
      InferenceModule.forRoot(options()),
    ]);
    await expectHeldBy(store, rollout);
  });

  it('lets a test replace the store with overrideProvider(ROLLOUT_STORE)', async () => {
    const given = new MemoryRolloutStore();
    const replacement = new MemoryRolloutStore();
    const { rollout } = await boot(
      [InferenceModule.forRoot({ ...options(), rolloutStore: { useValue: given } })],
      (builder) => builder.overrideProvider(ROLLOUT_STORE).useValue(replacement),
    );
    await expectHeldBy(replacement, rollout);
    expect(await given.read()).toBeUndefined();
  });

  it('still uses the store given by the option canary.store', async () => {
    const store = new MemoryRolloutStore();
    const { rollout, warnings } = await boot([InferenceModule.forRoot(options({ store }))]);
    await expectHeldBy(store, rollout);
    expect(warnings.join('\n')).not.toMatch(CONFLICT);
  });

  it('uses canary.store when both are given, and warns once at startup that the token is unused', async () => {
    const option = new MemoryRolloutStore();
    const token = new MemoryRolloutStore();
    const { rollout, warnings } = await boot([
      InferenceModule.forRoot({ ...options({ store: option }), rolloutStore: { useValue: token } }),
    ]);
    await expectHeldBy(option, rollout);
    expect(await token.read()).toBeUndefined();
    expect(warnings.filter((line) => CONFLICT.test(line))).toHaveLength(1);
  });

  it('does not warn when both name the same store', async () => {
    const store = new MemoryRolloutStore();
    const { rollout, warnings } = await boot([
      InferenceModule.forRoot({ ...options({ store }), rolloutStore: { useValue: store } }),
    ]);
    await expectHeldBy(store, rollout);
    expect(warnings.join('\n')).not.toMatch(CONFLICT);
  });
});
