import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InferenceRequestError } from '../errors/index.js';
import type { Clock } from './clock.js';
import { PROVIDER_REGISTRY_OPTIONS, type ProviderRegistryOptions } from './provider-options.js';
import { ProviderClient } from './provider.client.js';

/** Every configured upstream provider, by name; closes their pools when the app shuts down. */
@Injectable()
export class ProviderRegistry implements OnApplicationShutdown {
  readonly defaultProvider: string;
  /**
   * Where embeddings go unless a route or call says otherwise: the rollout's stable provider, or
   * the default one. Vectors of two models cannot share an index, so they are never split by user.
   */
  readonly embeddingsProvider: string;
  /** The module's time source: every call's deadline is on it. */
  readonly clock: Clock;
  readonly #clients = new Map<string, ProviderClient>();
  readonly #closeBoundMs: number;

  constructor(@Inject(PROVIDER_REGISTRY_OPTIONS) options: ProviderRegistryOptions) {
    for (const [name, provider] of options.providers) {
      this.#clients.set(name, new ProviderClient(provider, options.clock, options.random));
    }
    this.defaultProvider = options.defaultProvider;
    this.clock = options.clock;
    this.embeddingsProvider = options.embeddingsProvider;
    this.#closeBoundMs = options.closeGraceMs;
  }

  get names(): string[] {
    return [...this.#clients.keys()];
  }

  get clients(): ProviderClient[] {
    return [...this.#clients.values()];
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

  /**
   * Closes every pool once the app's own hooks have run. After a drain nothing should be left
   * running; whatever is still running after `shutdown.abandonGraceMs` is destroyed.
   */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => this.#close(client)));
  }

  async #close(client: ProviderClient): Promise<void> {
    let timer: unknown;
    const closed = await Promise.race([
      client.close().then(() => true),
      new Promise<false>((resolve) => {
        timer = this.clock.setTimeout(() => resolve(false), this.#closeBoundMs);
      }),
    ]);
    this.clock.clearTimeout(timer);
    if (!closed) await client.destroy();
  }
}
