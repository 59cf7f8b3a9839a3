import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { InferenceModel, InferenceService } from 'nestjs-inference';
import { UsageLedger } from './usage-ledger.service.js';

interface PromptBody {
  prompt?: unknown;
}

/**
 * Two routes on two models, chosen by decorator: recommendations on a cheap model, chat on a
 * strong one. Each answers `{ answer, provider, model, side, costUsd }`.
 */
@Controller()
export class RecommendationsController {
  constructor(
    private readonly inference: InferenceService,
    private readonly ledger: UsageLedger,
  ) {}

  @Post('recommendations')
  @HttpCode(200)
  @InferenceModel({ model: 'recommend', maxTokens: 300 })
  recommend(@Body() body: PromptBody) {
    return this.#answer(`Recommend products for: ${promptOf(body)}`);
  }

  @Post('chat')
  @HttpCode(200)
  @InferenceModel({ model: 'chat', temperature: 0.7 })
  chat(@Body() body: PromptBody) {
    return this.#answer(promptOf(body));
  }

  async #answer(content: string) {
    const completion = await this.inference.chat({ messages: [{ role: 'user', content }] });
    this.ledger.record(completion.usage);
    const { provider, model, side, cost } = completion.inference;
    return {
      answer: completion.choices[0]?.message.content ?? '',
      provider,
      model,
      side,
      costUsd: cost?.usd,
    };
  }
}

function promptOf(body: PromptBody | undefined): string {
  const prompt = body?.prompt;
  if (typeof prompt !== 'string' || prompt.trim() === '' || prompt.length > 4_000) {
    throw new BadRequestException('prompt must be a non-empty string of at most 4,000 characters.');
  }
  return prompt;
}
