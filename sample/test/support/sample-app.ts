import type { INestApplication } from '@nestjs/common';
import { SimulatedProvider, type SimulatedProviderOptions } from 'nestjs-inference/testing';
import { startHttpApp, type AdapterName } from '../../../test/support/http-app.js';
import { AppModule } from '../../app.module.js';
import { configureGateway } from '../../gateway-setup.js';

/**
 * The sample's `AppModule` in this process on `adapter`, set up as `main.ts` sets it up
 * (`configureGateway`), with `env` as its environment on top of this process's. The app reads its
 * configuration when it is created, so the variables are set for that moment only.
 */
export async function startGateway(
  adapter: AdapterName,
  env: Record<string, string>,
): Promise<{ app: INestApplication; url: string }> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await startHttpApp(adapter, { imports: [AppModule] }, configureGateway);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** A simulated provider per side, with the keys `upstreamEnv` gives the sample. */
export async function startUpstreams(
  legacyOptions: SimulatedProviderOptions = {},
  nextOptions: SimulatedProviderOptions = legacyOptions,
): Promise<{ legacy: SimulatedProvider; next: SimulatedProvider }> {
  const [legacy, next] = await Promise.all([
    SimulatedProvider.start({ apiKey: 'sk-legacy', ...legacyOptions }),
    SimulatedProvider.start({ apiKey: 'sk-next', ...nextOptions }),
  ]);
  return { legacy, next };
}

/** The sample's upstream variables for the providers of `startUpstreams`. */
export function upstreamEnv(legacy: SimulatedProvider, next: SimulatedProvider) {
  return {
    INFERENCE_BASE_URL: legacy.baseUrl,
    INFERENCE_API_KEY: 'sk-legacy',
    CANARY_BASE_URL: next.baseUrl,
    CANARY_API_KEY: 'sk-next',
  };
}

/** The sample gateway in this process, with a simulated provider per side. */
export interface SampleApp {
  app: INestApplication;
  url: string;
  legacy: SimulatedProvider;
  next: SimulatedProvider;
  /** Closes the app and both providers. */
  close(): Promise<void>;
}

/** Starts the sample on `adapter` with `env` (on top of each side's base URL and key). */
export async function startSampleApp(
  adapter: AdapterName,
  env: Record<string, string> = {},
  options: { providers?: SimulatedProviderOptions } = {},
): Promise<SampleApp> {
  const { legacy, next } = await startUpstreams(options.providers);
  const { app, url } = await startGateway(adapter, { ...upstreamEnv(legacy, next), ...env });
  return {
    app,
    url,
    legacy,
    next,
    async close() {
      await app.close();
      await Promise.all([legacy.close(), next.close()]);
    },
  };
}
