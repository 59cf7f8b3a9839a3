import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { InferenceService, type EmbeddingRequest, type EmbeddingResponse } from 'nestjs-inference';
import { checkEmbeddingRequest } from './openai-request.js';
import { UsageLedger } from './usage-ledger.service.js';

/**
 * OpenAI's embeddings endpoint, so `client.embeddings.create()` works unchanged. Embeddings go
 * to the stable provider during a rollout: vectors of two models cannot share an index.
 */
@Controller('v1')
export class EmbeddingsController {
  constructor(
    private readonly inference: InferenceService,
    private readonly ledger: UsageLedger,
  ) {}

  @Post('embeddings')
  @HttpCode(200)
  async create(@Body() body: EmbeddingRequest): Promise<EmbeddingResponse> {
    checkEmbeddingRequest(body);
    const result = await this.inference.embed(body);
    this.ledger.record(result.inference.usage);
    return result; // `inference` is not enumerable: the JSON is OpenAI's shape
  }
}
