import { Controller, Get, Sse, type MessageEvent } from '@nestjs/common';
import { InferenceService } from 'nestjs-inference';
import { map, type Observable } from 'rxjs';
import { UsageLedger } from './usage-ledger.service';

const PROMPT = { messages: [{ role: 'user' as const, content: 'Recommend a book' }] };

@Controller()
export class ChatController {
  constructor(
    private readonly inference: InferenceService,
    private readonly ledger: UsageLedger,
  ) {}

  @Get('chat')
  async chat(): Promise<{ content: string | null | undefined }> {
    const completion = await this.inference.chat(PROMPT);
    this.ledger.record();
    return { content: completion.choices[0]?.message.content };
  }

  @Sse('stream')
  stream(): Observable<MessageEvent> {
    return this.inference
      .stream(PROMPT)
      .pipe(map((chunk) => ({ data: chunk.choices[0]?.delta?.content ?? '' })));
  }
}
