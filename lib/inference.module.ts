import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { InferenceModelValidator } from './model/inference-model.validator.js';
import { ModelCatalog } from './model/model-catalog.js';
import { InferenceTelemetry } from './telemetry/inference.telemetry.js';
import { CanaryRollout } from './canary/canary.rollout.js';
import { ROLLOUT_STORE } from './canary/rollout.store.js';
import { CanaryRouter } from './routing/canary.router.js';
import { ShadowMirror } from './canary/shadow.mirror.js';
import { InferenceRouter } from './routing/inference.router.js';
import { PROVIDER_REGISTRY_OPTIONS } from './client/provider-options.js';
import { ProviderRegistry } from './client/provider.registry.js';
import { InferenceInterceptor } from './context/inference.interceptor.js';
import { INFERENCE_ERROR_OPTIONS } from './errors/to-http-exception.js';
import { INFERENCE_OPTIONS } from './inference.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  INFERENCE_MODULE_OPTIONS,
  InferenceConfigurableModule,
  OPTIONS_TYPE,
  type InferenceModuleExtras,
} from './inference.module-definition.js';
import { InferenceService } from './inference.service.js';
import { CallPipeline } from './call/call.pipeline.js';
import { INFERENCE_CALL_STEPS, type CallStep } from './call/call-step.js';
import { RolloutStep } from './call/rollout.step.js';
import { InflightRegistry } from './lifecycle/inflight.registry.js';
import { ShutdownCoordinator } from './lifecycle/shutdown.coordinator.js';
import {
  providerRegistryOptions,
  resolveInferenceOptions,
  type ResolvedInferenceOptions,
} from './options/resolve-options.js';

/**
 * `InferenceModule.forRoot(options)` or `forRootAsync({ imports, inject, useFactory })`.
 * Options are validated once, at startup, on both paths; a bad option stops the app with a
 * message naming the field.
 */
@Module({})
export class InferenceModule extends InferenceConfigurableModule {
  static override forRoot(options: typeof OPTIONS_TYPE & InferenceModuleExtras): DynamicModule {
    const { isGlobal, globalInterceptor, router, rolloutStore, ...moduleOptions } = options;
    return withProviders(super.forRoot(moduleOptions), {
      isGlobal,
      globalInterceptor,
      router,
      rolloutStore,
    });
  }

  static override forRootAsync(
    options: typeof ASYNC_OPTIONS_TYPE & InferenceModuleExtras,
  ): DynamicModule {
    const { isGlobal, globalInterceptor, router, rolloutStore, ...asyncOptions } = options;
    return withProviders(super.forRootAsync(asyncOptions), {
      isGlobal,
      globalInterceptor,
      router,
      rolloutStore,
    });
  }
}

// Extras are applied here rather than with `setExtras`, which drops them on the async path.
function withProviders(definition: DynamicModule, extras: InferenceModuleExtras): DynamicModule {
  const providers: Provider[] = [
    ...(definition.providers ?? []),
    {
      provide: INFERENCE_OPTIONS,
      useFactory: resolveInferenceOptions,
      inject: [INFERENCE_MODULE_OPTIONS],
    },
    {
      provide: INFERENCE_ERROR_OPTIONS,
      useFactory: (options: ResolvedInferenceOptions) => options.errors,
      inject: [INFERENCE_OPTIONS],
    },
    {
      provide: PROVIDER_REGISTRY_OPTIONS,
      useFactory: providerRegistryOptions,
      inject: [INFERENCE_OPTIONS],
    },
    ProviderRegistry,
    InflightRegistry,
    ShutdownCoordinator,
    {
      provide: ModelCatalog,
      useFactory: (options: ResolvedInferenceOptions) => new ModelCatalog(options),
      inject: [INFERENCE_OPTIONS],
    },
    InferenceModelValidator,
    InferenceTelemetry,
    CanaryRollout,
    CanaryRouter,
    {
      provide: ShadowMirror,
      // Mirroring stops as soon as the shutdown begins: it must never hold the drain.
      useFactory: (
        options: ResolvedInferenceOptions,
        providers: ProviderRegistry,
        rollout: CanaryRollout,
        shutdown: ShutdownCoordinator,
      ) => {
        const mirror = new ShadowMirror(options, providers, rollout);
        shutdown.subscribe((event) => {
          if (event.type === 'phase' && event.phase !== 'serving') mirror.stop();
        });
        return mirror;
      },
      inject: [INFERENCE_OPTIONS, ProviderRegistry, CanaryRollout, ShutdownCoordinator],
    },
    { provide: InferenceRouter, useExisting: extras.router ?? CanaryRouter },
    RolloutStep,
    // The steps every call passes, in order (see `CallStep`); pools and tenant limits plug in here.
    {
      provide: INFERENCE_CALL_STEPS,
      useFactory: (rollout: RolloutStep): CallStep[] => [rollout],
      inject: [RolloutStep],
    },
    CallPipeline,
    InferenceService,
    InferenceInterceptor,
  ];
  if (extras.router) providers.push(extras.router);
  // CanaryRollout reads ROLLOUT_STORE when it is in scope: from here, from a module given to
  // forRootAsync({ imports }), or from a global module. The module provides no default under it,
  // which would hide theirs; the rollout falls back to memory itself.
  if (extras.rolloutStore) providers.push({ ...extras.rolloutStore, provide: ROLLOUT_STORE });
  if (extras.globalInterceptor !== false) {
    providers.push({ provide: APP_INTERCEPTOR, useExisting: InferenceInterceptor });
  }
  return {
    ...definition,
    global: extras.isGlobal ?? false,
    imports: [...(definition.imports ?? []), DiscoveryModule],
    providers,
    exports: [
      ...(definition.exports ?? []),
      InferenceService,
      InferenceInterceptor,
      InflightRegistry,
      ShutdownCoordinator,
      ProviderRegistry,
      CanaryRollout,
      ShadowMirror,
      InferenceRouter,
      ModelCatalog,
      InferenceTelemetry,
      INFERENCE_OPTIONS,
      INFERENCE_ERROR_OPTIONS,
    ],
  };
}
