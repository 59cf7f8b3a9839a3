// A load of InferenceService calls, for bench/gateway.profile.mjs --target service: `calls` chat
// completions (or 1,000-chunk streams) at concurrency 50 against a simulated provider in another
// process, then one line `LOAD <ms>` with how long the load took, and the process exits.
//
//   node bench/service-load.mjs chat 40000
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InferenceModule, InferenceService } from '../dist/index.js';

const kind = process.argv[2] ?? 'chat';
const calls = Number(process.argv[3] ?? (kind === 'stream' ? 600 : 40_000));
const upstream = spawn(
  process.execPath,
  [new URL('./simulated-server.mjs', import.meta.url).pathname, kind === 'stream' ? '1000' : '8'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [line] = await once(upstream.stdout, 'data');
class LoadModule {}
Module({
  imports: [
    InferenceModule.forRoot({
      providers: {
        sim: { baseUrl: line.toString().trim(), apiKey: 'sk-bench', defaultModel: 'sim-model' },
      },
    }),
  ],
})(LoadModule);
const app = await NestFactory.createApplicationContext(LoadModule, { logger: false });
const service = app.get(InferenceService);
const request = {
  model: 'sim-model',
  messages: [{ role: 'user', content: 'Recommend three books about resilience.' }],
};
const run = async (count) => {
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next++ < count) {
        if (kind === 'stream') for await (const _chunk of service.stream(request));
        else await service.chat(request);
      }
    }),
  );
};
await run(Math.ceil(calls / 10)); // warm-up
const startedAt = performance.now();
await run(calls);
process.stdout.write(`LOAD ${performance.now() - startedAt}\n`);
upstream.kill('SIGKILL');
process.exit(0);
