// The gateway benchmark's baseline: the least a Nest app can do to proxy chat completions. One
// controller forwards the parsed body to the upstream with raw undici and answers with what came
// back (parsed and serialised again by Nest for a unary call, piped for a stream). No validation,
// retries, deadlines, routing, metrics or drain. `HTTP_ADAPTER=fastify` runs it on Fastify.
// Prints its URL on the first line of stdout.
//
//   UPSTREAM_URL=http://127.0.0.1:PORT/v1 node bench/bare-proxy.mjs
import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'undici';

const upstream = new URL(process.env.UPSTREAM_URL);
const pool = new Pool(upstream.origin, { connections: 128 });
const path = `${upstream.pathname}/chat/completions`;
const headers = { authorization: 'Bearer sk-bench', 'content-type': 'application/json' };

class ProxyController {
  async create(body, response) {
    const answer = await pool.request({
      method: 'POST',
      path,
      headers,
      body: JSON.stringify(body),
    });
    // Express hands out the Node response itself, Fastify a reply around it.
    const raw = response.raw ?? response;
    if (body.stream === true) {
      response.hijack?.();
      raw.writeHead(answer.statusCode, { 'content-type': 'text/event-stream' });
      for await (const bytes of answer.body) raw.write(bytes);
      raw.end();
      return;
    }
    const json = await answer.body.json();
    if (response.raw) response.status(answer.statusCode).send(json);
    else response.status(answer.statusCode).json(json);
  }
}
Controller('v1')(ProxyController);
const create = Object.getOwnPropertyDescriptor(ProxyController.prototype, 'create');
Body()(ProxyController.prototype, 'create', 0);
Res()(ProxyController.prototype, 'create', 1);
HttpCode(200)(ProxyController.prototype, 'create', create);
Post('chat/completions')(ProxyController.prototype, 'create', create);

class ProxyModule {}
Module({ controllers: [ProxyController] })(ProxyModule);

async function createApp() {
  if (process.env.HTTP_ADAPTER === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return NestFactory.create(ProxyModule, new FastifyAdapter(), { logger: false });
  }
  return NestFactory.create(ProxyModule, { logger: false });
}

const app = await createApp();
await app.listen(0, '127.0.0.1');
process.stdout.write(`${await app.getUrl()}\n`);
process.on('SIGTERM', () => process.exit(0));
