import type { INestApplication } from '@nestjs/common';
import { SimulatedProvider, type SimulatedProviderOptions } from '../../lib/testing/index.js';
import { AppModule } from '../../sample/app.module.js';
import { startHttpApp, type AdapterName } from './http-app.js';

/** The sample gateway's `AppModule` in this process, with a simulated provider per side. */
export interface SampleApp {
  app: INestApplication;
  url: string;
  legacy: SimulatedProvider;
  next: SimulatedProvider;
  /** Closes the app and both providers, and removes the variables it set. */
  close(): Promise<void>;
}

/**
 * Starts the sample on `adapter` with `env` (on top of each side's base URL and key) for its
 * life; `configure` runs before it listens, as the sample's `main.ts` would.
 */
export async function startSampleApp(
  adapter: AdapterName,
  env: Record<string, string> = {},
  options: {
    providers?: SimulatedProviderOptions;
    configure?: (app: INestApplication) => void;
  } = {},
): Promise<SampleApp> {
  const [legacy, next] = await Promise.all([
    SimulatedProvider.start({ apiKey: 'sk-legacy', ...options.providers }),
    SimulatedProvider.start({ apiKey: 'sk-next', ...options.providers }),
  ]);
  const variables = {
    INFERENCE_BASE_URL: legacy.baseUrl,
    INFERENCE_API_KEY: 'sk-legacy',
    CANARY_BASE_URL: next.baseUrl,
    CANARY_API_KEY: 'sk-next',
    ...env,
  };
  Object.assign(process.env, variables);
  const { app, url } = await startHttpApp(adapter, { imports: [AppModule] }, options.configure);
  return {
    app,
    url,
    legacy,
    next,
    async close() {
      await app.close();
      await Promise.all([legacy.close(), next.close()]);
      for (const name of Object.keys(variables)) delete process.env[name];
    },
  };
}
