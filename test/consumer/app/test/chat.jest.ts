import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { InferenceService } from 'nestjs-inference';
import { SimulatedProvider } from 'nestjs-inference/testing';
import { AppModule } from '../src/app.module';

// Run by Jest with the README's configuration (transformIgnorePatterns for the ESM package).
describe('nestjs-inference under Jest', () => {
  let provider: SimulatedProvider;
  beforeAll(async () => {
    provider = await SimulatedProvider.start({ apiKey: 'sk-consumer-smoke', chunks: 3 });
    process.env.INFERENCE_BASE_URL = provider.baseUrl;
  });
  afterAll(() => provider.close());

  it('chats through the module in a testing module', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const completion = await app
      .get(InferenceService)
      .chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe('tok0 tok1 tok2 ');
    await app.close();
  });
});
