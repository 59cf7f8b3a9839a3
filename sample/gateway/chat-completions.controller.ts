import { Body, Controller, Headers, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { InferenceService, sendSse, type ChatCompletionRequest } from 'nestjs-inference';
import { gatewayConfig, type GatewayConfig } from '../config/gateway.config.js';
import { gatewayHeaders } from './gateway-headers.js';
import { checkChatRequest } from './openai-request.js';
import { UsageLedger } from './usage-ledger.service.js';

/** The two ways a Nest adapter hands out its response: Express's is the Node response itself. */
type AdapterResponse = ServerResponse | { raw: ServerResponse; hijack(): void };

/**
 * OpenAI's chat-completions endpoint, so OpenAI's own SDKs can use the gateway unchanged. With
 * ALLOW_PROVIDER_HEADER=true, `x-inference-provider: next` pins a call to a provider (off by
 * default: any client could otherwise steer its calls around the rollout).
 */
@Controller('v1')
export class ChatCompletionsController {
  constructor(
    private readonly inference: InferenceService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly ledger: UsageLedger,
    @Inject(gatewayConfig.KEY) private readonly config: GatewayConfig,
  ) {}

  @Post('chat/completions')
  @HttpCode(200)
  async create(
    @Body() body: ChatCompletionRequest,
    @Headers('x-inference-provider') pinned: string | undefined,
    @Res() response: AdapterResponse,
  ): Promise<void> {
    const provider = this.config.allowProviderHeader ? pinned : undefined;
    checkChatRequest(body);
    if (body.stream === true) {
      const stream = this.inference.stream(body, {
        provider,
        onEnd: (summary) => {
          if (summary.outcome === 'completed') this.ledger.record(summary.usage);
        },
      });
      await sendSse(stream, response, { heartbeatMs: 15_000 });
      return;
    }
    const completion = await this.inference.chat(body, { provider });
    this.ledger.record(completion.usage);
    const { httpAdapter } = this.adapterHost;
    for (const [name, value] of Object.entries(gatewayHeaders(completion.inference, this.config))) {
      httpAdapter.setHeader(response, name, value);
    }
    httpAdapter.reply(response, completion, 200);
  }
}
