import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InferenceRequestError } from '../errors/index.js';
import { INFERENCE_LOGGER_CONTEXT, INFERENCE_OPTIONS } from '../inference.constants.js';
import type { ResolvedInferenceOptions } from '../options/index.js';
import { ProviderClient } from './provider.client.js';

/** Every configured upstream provider, by name; closes their pools when the app shuts down. */
@Injectable()
export class ProviderRegistry implements OnApplicationShutdown {
  readonly defaultProvider: string;
  readonly #clients = new Map<string, ProviderClient>();

  constructor(@Inject(INFERENCE_OPTIONS) options: ResolvedInferenceOptions) {
    const logger = new Logger(INFERENCE_LOGGER_CONTEXT);
    for (const [name, provider] of options.providers) {
      this.#clients.set(name, new ProviderClient(provider, options.clock, options.random, logger));
    }
    this.defaultProvider = options.defaultProvider;
  }

  get names(): string[] {
    return [...this.#clients.keys()];
  }

  /** The named provider, or the default one. An unknown name is the caller's error. */
  get(name: string | undefined, requestId: string): ProviderClient {
    const client = this.#clients.get(name ?? this.defaultProvider);
    if (client) return client;
    throw new InferenceRequestError(
      `No provider is named "${name}". Configured providers: ${this.names.join(', ')}.`,
      { provider: String(name), requestId, phase: 'request', retryable: false },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
  }
}
