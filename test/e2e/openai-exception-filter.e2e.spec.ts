import 'reflect-metadata';
import {
  BadRequestException,
  Controller,
  Get,
  ServiceUnavailableException,
  type INestApplication,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiExceptionFilter } from '../../lib/index.js';
import { adapters, startHttpApp, type AdapterName } from '../support/http-app.js';

@Controller()
class ThrowingController {
  @Get('health')
  health() {
    // What Terminus throws when a check fails: the app's own report.
    throw new ServiceUnavailableException({
      status: 'error',
      info: {},
      error: 'down',
      details: {},
    });
  }

  @Get('plain')
  plain() {
    throw new BadRequestException('prompt must be a non-empty string.');
  }

  @Get('bug')
  bug() {
    throw new TypeError('secret internals');
  }
}

describe.each(Object.keys(adapters) as AdapterName[])('OpenAiExceptionFilter on %s', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => app?.close());

  it('leaves a body the app shaped itself, and puts Nest’s defaults in OpenAI’s shape', async () => {
    let url: string;
    ({ app, url } = await startHttpApp(adapter, {
      controllers: [ThrowingController],
      providers: [{ provide: APP_FILTER, useClass: OpenAiExceptionFilter }],
    }));
    const health = await request(`${url}/health`);
    expect(health.statusCode).toBe(503);
    expect(await health.body.json()).toEqual({
      status: 'error',
      info: {},
      error: 'down',
      details: {},
    });
    const plain = await request(`${url}/plain`);
    expect(plain.statusCode).toBe(400);
    expect(await plain.body.json()).toMatchObject({
      error: { message: 'prompt must be a non-empty string.', type: 'invalid_request_error' },
    });
    const bug = await request(`${url}/bug`);
    expect(bug.statusCode).toBe(500);
    const text = await bug.body.text();
    expect(JSON.parse(text)).toMatchObject({ error: { type: 'server_error' } });
    expect(text).not.toContain('secret internals');
  });
});
