import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { CompletionUsage } from 'nestjs-inference';

/**
 * Tokens used per request, as a billing store would keep them. It closes in `onModuleDestroy`,
 * like a database client; handlers write to it after their upstream call. Because the module
 * drains in-flight requests before Nest runs that hook, no request finds it closed.
 */
@Injectable()
export class UsageLedger implements OnModuleDestroy {
  readonly #logger = new Logger('UsageLedger');
  #open = true;
  #requests = 0;
  #tokens = 0;

  record(usage: CompletionUsage | undefined): void {
    if (!this.#open) throw new Error('The usage ledger is closed: a request outlived the drain.');
    this.#requests++;
    this.#tokens += usage?.total_tokens ?? 0;
  }

  onModuleDestroy(): void {
    this.#open = false;
    this.#logger.log(`Usage ledger closed: ${this.#requests} requests, ${this.#tokens} tokens.`);
  }
}
