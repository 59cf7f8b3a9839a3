import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { EmbeddingAnswer } from './embedding-answer.js';
import { schemaExample } from './schema-example.js';
import type { SimulatedFault } from './simulated-fault.js';

export interface SimulatedLatency {
  /** Before the response headers. A `[min, max]` pair draws uniformly. Default 0. */
  firstByteMs?: number | readonly [number, number];
  /** Between two stream chunks (a unary answer waits chunks × this before its headers). Default 0. */
  perChunkMs?: number;
}

export interface SimulatedProviderOptions {
  /** Default 0: a free port. The server always listens on loopback. */
  port?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** The model reported when the request names none. Default `sim-model`. */
  model?: string;
  /** Content chunks per answer. Default 8. */
  chunks?: number;
  latency?: SimulatedLatency;
  /**
   * The model's context window, in prompt tokens (⌈characters of the messages / 4⌉): a longer
   * prompt is refused with 400 `context_length_exceeded`, as OpenAI does. Default: no limit.
   */
  contextTokens?: number;
  /** Reported usage; by default prompt tokens are ⌈characters / 4⌉ and completion tokens = chunks. */
  usage?: { promptTokens?: number; completionTokens?: number; cachedTokens?: number };
  /** Random source for fault rates and latency ranges. Default `Math.random`. */
  random?: () => number;
  /**
   * How many recent requests `requests` keeps (default 1,000); older ones are dropped, and
   * `attempts`, `aborted` and `inProgress` still count them. 0 keeps none. A long-running
   * process (a local gateway, a load test) should keep few: each record holds a body.
   */
  keepRequests?: number;
  /**
   * Shares of answers (0..1, drawn per request) that are poor but well-formed: `invalidJson`
   * (a JSON request gets unparsable text), `truncated` (`finish_reason: length`), `empty` (no
   * text). A request asking for JSON (`response_format`) otherwise gets a JSON object: with a
   * `json_schema`, a document of that schema. `invalidJson` also breaks tool-call arguments, and
   * `empty` leaves no tool call. Drawn per choice when the request asks for `n`.
   */
  answers?: { invalidJson?: number; truncated?: number; empty?: number };
}

export type RecordedOutcome = 'in-progress' | 'completed' | 'faulted' | 'aborted';

/** One request as the simulated provider saw it. The authorization header is never kept. */
export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  /** Request headers, without `authorization`. */
  headers: Record<string, string | string[] | undefined>;
  /** Whether the request carried the expected bearer key (always true when no key is set). */
  authorized: boolean;
  body: Record<string, unknown> | undefined;
  stream: boolean;
  fault?: SimulatedFault;
  startedAt: number;
  endedAt?: number;
  /** `aborted`: the client closed the connection before the answer was complete. */
  outcome: RecordedOutcome;
}

/**
 * An OpenAI-compatible provider on loopback, for tests and local runs: `POST /v1/chat/completions`
 * (unary and SSE), `POST /v1/embeddings` and `GET /v1/models`, with deterministic content and
 * scriptable faults (the same faults apply to embeddings as to unary completions). A request
 * offering `tools` gets a tool call (arguments synthesized from the function's schema) unless
 * `tool_choice` is `'none'` or the last message is a tool result; `response_format: json_schema`
 * gets a document synthesized from its schema; `n` gets that many choices.
 *
 * ```ts
 * const provider = await SimulatedProvider.start({ chunks: 5 });
 * provider.failNext({ type: 'status', status: 503 });      // the next request fails, then ok
 * provider.setFaultRate({ type: 'reset-before-headers' }, 0.1); // and 10% of the rest
 * // ... point the module at provider.baseUrl ...
 * expect(provider.requests).toHaveLength(2);
 * await provider.close();
 * ```
 */
export class SimulatedProvider {
  /** The most recent requests, oldest first: at most `keepRequests` of them. */
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #script: (SimulatedFault | undefined)[] = [];
  #options: SimulatedProviderOptions;
  #rate: { fault: SimulatedFault; rate: number } | undefined;
  #closed = false;
  // Counted as requests arrive and end, so they stay exact once `requests` drops old records.
  // `reset()` starts a new generation: requests from before it stop counting, as they did when
  // the counts were read from `requests`.
  #generation = 0;
  #received = 0;
  #attempts = 0;
  #aborted = 0;
  #inProgress = 0;

  private constructor(options: SimulatedProviderOptions) {
    this.#options = options;
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: SimulatedProviderOptions = {}): Promise<SimulatedProvider> {
    checkKeepRequests(options.keepRequests);
    const provider = new SimulatedProvider(options);
    provider.#server.listen(options.port ?? 0, '127.0.0.1');
    await once(provider.#server, 'listening');
    return provider;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The API root to configure as a provider's `baseUrl`. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Chat-completion and embeddings requests received, retries included (not probes). */
  get attempts(): number {
    return this.#attempts;
  }

  /** Requests whose client went away before the answer was complete. */
  get aborted(): number {
    return this.#aborted;
  }

  /** Requests still being answered. */
  get inProgress(): number {
    return this.#inProgress;
  }

  /** Connections open now (idle keep-alive ones included). */
  get openConnections(): number {
    return this.#sockets.size;
  }

  /** Changes content, latency or usage for the requests that follow. */
  configure(options: Partial<SimulatedProviderOptions>): void {
    checkKeepRequests(options.keepRequests);
    this.#options = { ...this.#options, ...options };
  }

  /** The next `times` requests show this fault (after any already scripted). */
  failNext(fault: SimulatedFault, times = 1): void {
    for (let i = 0; i < times; i++) this.#script.push(fault);
  }

  /** Scripts the next requests in order; `undefined` is a healthy answer. */
  script(...faults: (SimulatedFault | undefined)[]): void {
    this.#script.push(...faults);
  }

  /** Unscripted requests show `fault` with probability `rate` (0 turns it off). */
  setFaultRate(fault: SimulatedFault, rate: number): void {
    this.#rate = rate > 0 ? { fault, rate } : undefined;
  }

  /** Forgets recorded requests, their counts and scripted faults. */
  reset(): void {
    this.requests.length = 0;
    this.#generation++;
    this.#received = 0;
    this.#attempts = 0;
    this.#aborted = 0;
    this.#inProgress = 0;
    this.#script.length = 0;
    this.#rate = undefined;
  }

  /** Resolves once no request is being answered (or after `timeoutMs`). */
  async settled(timeoutMs = 2_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.inProgress > 0 && Date.now() < until) await delay(5);
  }

  /** Stops listening and destroys every connection, stalled ones included. */
  async close(): Promise<void> {
    this.#closed = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #keep(record: RecordedRequest): void {
    const keep = this.#options.keepRequests ?? DEFAULT_KEEP_REQUESTS;
    this.requests.push(record);
    if (this.requests.length > keep) this.requests.splice(0, this.requests.length - keep);
  }

  #settle(record: RecordedRequest, outcome: RecordedOutcome, counts: boolean): void {
    record.outcome = outcome;
    if (!counts) return;
    this.#inProgress--;
    if (outcome === 'aborted') this.#aborted++;
  }

  #nextFault(): SimulatedFault | undefined {
    if (this.#script.length > 0) return this.#script.shift();
    if (this.#rate && this.#random() < this.#rate.rate) return this.#rate.fault;
    return undefined;
  }

  #random(): number {
    return (this.#options.random ?? Math.random)();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const url = request.url ?? '/';
    const { authorization, ...headers } = request.headers;
    const authorized =
      this.#options.apiKey === undefined || authorization === `Bearer ${this.#options.apiKey}`;
    let body: Record<string, unknown> | undefined;
    try {
      body = raw.length > 0 ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = {
      seq: ++this.#received,
      method: request.method ?? 'GET',
      path: url,
      headers,
      authorized,
      body,
      stream: body?.stream === true,
      startedAt: Date.now(),
      outcome: 'in-progress',
    };
    this.#keep(record);
    const generation = this.#generation;
    const counts = () => generation === this.#generation;
    this.#inProgress++;
    if (url.endsWith('/chat/completions') || url.endsWith('/embeddings')) this.#attempts++;
    response.once('close', () => {
      record.endedAt = Date.now();
      if (record.outcome === 'in-progress') {
        this.#settle(record, response.writableFinished ? 'completed' : 'aborted', counts());
      }
    });
    response.setHeader('x-request-id', `sim-${record.seq}`);

    if (!authorized)
      return sendError(response, 401, 'Incorrect API key provided.', 'invalid_api_key');
    if (request.method === 'GET' && url === '/v1/models') return this.#models(response);
    if (request.method === 'POST' && url === '/v1/embeddings') {
      if (!EmbeddingAnswer.accepts(body)) {
        return sendError(
          response,
          400,
          'The body must be JSON with an input: a string or an array of strings or tokens.',
          'invalid_body',
        );
      }
      record.stream = false;
      record.fault = this.#nextFault();
      const answer = new EmbeddingAnswer(body!, this.#options.model ?? 'sim-embedding');
      return this.#answer(record, answer, request, response);
    }
    if (request.method !== 'POST' || url !== '/v1/chat/completions') {
      return sendError(response, 404, `No route for ${request.method} ${url}.`, 'not_found');
    }
    if (!body || !Array.isArray(body.messages)) {
      return sendError(
        response,
        400,
        'The body must be JSON with a messages array.',
        'invalid_body',
      );
    }
    const contextTokens = this.#options.contextTokens;
    if (
      contextTokens !== undefined &&
      Math.ceil(JSON.stringify(body.messages).length / 4) > contextTokens
    ) {
      return sendError(
        response,
        400,
        `This model's maximum context length is ${contextTokens} tokens; the messages are longer.`,
        'context_length_exceeded',
        'messages',
      );
    }
    const refusal = Answer.refusal(body);
    if (refusal) {
      return sendError(response, 400, refusal.message, 'invalid_value', undefined, refusal.param);
    }
    record.fault = this.#nextFault();
    const answer = new Answer(this.#options, body, record.seq, () => this.#random());
    await this.#answer(record, answer, request, response);
  }

  #models(response: ServerResponse): void {
    sendJson(response, 200, {
      object: 'list',
      data: [
        {
          id: this.#options.model ?? 'sim-model',
          object: 'model',
          created: 0,
          owned_by: 'simulated',
        },
      ],
    });
  }

  async #answer(
    record: RecordedRequest,
    answer: Answer | EmbeddingAnswer,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const fault = record.fault;
    const gone = () => response.destroyed || this.#closed;
    const generation = this.#generation;
    const fail = () => {
      if (record.outcome === 'in-progress') {
        this.#settle(record, 'faulted', generation === this.#generation);
      }
    };

    if (fault?.type === 'stall-before-headers') {
      fail();
      return; // the socket stays open and silent
    }
    await pause(this.#firstByteMs());
    if (gone()) return;
    if (fault?.type === 'reset-before-headers') {
      fail();
      request.socket.destroy();
      return;
    }
    if (fault?.type === 'status') {
      fail();
      if (fault.retryAfter !== undefined)
        response.setHeader('retry-after', String(fault.retryAfter));
      if (fault.retryAfterMs !== undefined)
        response.setHeader('retry-after-ms', String(fault.retryAfterMs));
      if (fault.shouldRetry !== undefined)
        response.setHeader('x-should-retry', String(fault.shouldRetry));
      return sendError(
        response,
        fault.status,
        fault.message ?? `Simulated ${fault.status}.`,
        fault.code === undefined ? 'simulated' : fault.code,
        fault.errorType,
        fault.param,
      );
    }

    if (!record.stream) {
      await pause(answer.steps * (this.#options.latency?.perChunkMs ?? 0));
      if (gone()) return;
      const text = JSON.stringify(answer.completion());
      if (fault?.type === 'malformed-json') {
        fail();
        return sendRaw(
          response,
          200,
          'application/json',
          text.slice(0, Math.floor(text.length / 2)),
        );
      }
      if (fault?.type === 'reset-mid-body' || fault?.type === 'stall-mid-stream') {
        fail();
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': text.length,
        });
        response.write(text.slice(0, Math.floor(text.length / 2)));
        if (fault.type === 'reset-mid-body') {
          await flushed(response);
          request.socket.destroy();
        }
        return;
      }
      if (fault?.type === 'slow-trickle')
        return trickle(response, 'application/json', text, fault, gone);
      return sendRaw(response, 200, 'application/json', text);
    }

    if (!(answer instanceof Answer)) return; // embeddings are unary only
    const frames = answer.frames();
    if (fault?.type === 'slow-trickle')
      return trickle(response, 'text/event-stream', frames.join(''), fault, gone);
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    response.flushHeaders();
    const cut = Math.max(
      1,
      Math.min(
        answer.steps,
        (fault && 'afterChunks' in fault ? fault.afterChunks : undefined) ??
          Math.ceil(answer.steps / 2),
      ),
    );
    const perChunkMs = this.#options.latency?.perChunkMs ?? 0;
    for (let i = 0; i < frames.length; i++) {
      const isContent = i < answer.steps;
      if (isContent && i === cut && fault) {
        switch (fault.type) {
          case 'reset-mid-body':
            fail();
            // What was written reaches the client before the connection drops.
            await flushed(response);
            request.socket.destroy();
            return;
          case 'stall-mid-stream':
            fail();
            return;
          case 'malformed-sse':
            fail();
            response.end('data: {"id": "broken", "choices": [\n\n');
            return;
          case 'error-frame':
            fail();
            response.end(
              `data: ${JSON.stringify({ error: { message: fault.message ?? 'Simulated failure mid-stream.', type: fault.errorType ?? 'server_error', code: null } })}\n\n`,
            );
            return;
        }
      }
      if (fault?.type === 'no-done' && i === frames.length - 1) {
        fail();
        response.end();
        return;
      }
      if (isContent && i > 0 && perChunkMs > 0) await delay(perChunkMs);
      if (gone()) return;
      if (!response.write(frames[i])) await once(response, 'drain').catch(() => undefined);
    }
    response.end();
  }

  #firstByteMs(): number {
    const value = this.#options.latency?.firstByteMs ?? 0;
    if (typeof value === 'number') return value;
    const [min, max] = value;
    return min + this.#random() * (max - min);
  }
}

const DEFAULT_KEEP_REQUESTS = 1_000;

function checkKeepRequests(keep: number | undefined): void {
  if (keep !== undefined && !(Number.isInteger(keep) && keep >= 0)) {
    throw new TypeError(`keepRequests must be a whole number ≥ 0, got ${String(keep)}.`);
  }
}

/** The tool a request has the model call, if any (see `Answer`). */
interface ToolCallPlan {
  name: string;
  parameters: unknown;
}

/** One choice of an answer: text pieces, or a tool call whose arguments come in pieces. */
interface Choice {
  pieces: string[];
  finishReason: string;
  /** Set when the choice calls a tool; `pieces` are then its arguments. */
  tool?: { id: string; name: string };
}

/**
 * The deterministic answer to one request, with `n` choices (default 1), all alike:
 *
 * - a tool call, when the request offers `tools` (type `function`), `tool_choice` is not
 *   `'none'` and the last message is not a tool result: the function `tool_choice` names, else
 *   the first tool (even with `tool_choice: 'auto'`: a deterministic fake always calls), with
 *   arguments synthesized from its `parameters` schema (`schemaExample`);
 * - else `response_format: json_schema`: a document synthesized from its schema;
 *   `json_object` (or a `json_schema` without a schema): `{"answer":"tok0 …"}`;
 * - else text: `tok0 tok1 …`.
 *
 * Poor answers (`answers`) are drawn per choice: `invalidJson` makes the JSON text or the tool
 * arguments unparsable, `truncated` halves the pieces with `finish_reason: length`, `empty`
 * leaves no text and no tool call.
 */
class Answer {
  readonly choices: Choice[];
  /** Content frames per choice in a stream (the most of any choice); a unary answer waits this many chunks. */
  readonly steps: number;
  readonly model: string;
  readonly id: string;
  readonly created = Math.floor(Date.now() / 1000);
  readonly #usage: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details?: { cached_tokens: number };
  };
  readonly #includeUsage: boolean;

  constructor(
    options: SimulatedProviderOptions,
    body: Record<string, unknown>,
    seq: number,
    random: () => number = Math.random,
  ) {
    const count = options.chunks ?? 8;
    const n = Answer.choiceCount(body) ?? 1;
    const tool = Answer.toolCallOf(body);
    const format = body.response_format as
      { type?: string; json_schema?: { schema?: unknown } } | undefined;
    const schema =
      format?.type === 'json_schema' && isObject(format.json_schema?.schema)
        ? format.json_schema.schema
        : undefined;
    const json = format?.type === 'json_object' || format?.type === 'json_schema';
    this.choices = Array.from({ length: n }, (_, index) => {
      const poor = options.answers;
      let choice: Choice;
      if (tool) {
        let text = JSON.stringify(schemaExample(tool.parameters) ?? {});
        if (poor?.invalidJson && random() < poor.invalidJson) text = unparsable(text);
        choice = {
          pieces: split(text, Math.max(1, count)),
          finishReason: 'tool_calls',
          tool: { id: `call_sim_${seq}_${index}`, name: tool.name },
        };
      } else if (schema !== undefined) {
        let text = JSON.stringify(schemaExample(schema));
        if (poor?.invalidJson && random() < poor.invalidJson) text = unparsable(text);
        choice = { pieces: split(text, Math.max(1, count)), finishReason: 'stop' };
      } else {
        const pieces = Array.from({ length: count }, (_, i) => `tok${i} `);
        if (json) {
          pieces[0] = `{"answer":"${pieces[0]}`;
          if (!(poor?.invalidJson && random() < poor.invalidJson)) pieces[count - 1] += '"}';
        }
        choice = { pieces, finishReason: 'stop' };
      }
      if (poor?.truncated && random() < poor.truncated) {
        choice.pieces.length = Math.ceil(choice.pieces.length / 2);
        choice.finishReason = 'length';
      }
      // An empty answer keeps its finish reason (`length` when also truncated), a call none.
      if (poor?.empty && random() < poor.empty) {
        const finishReason = choice.tool ? 'stop' : choice.finishReason;
        choice = { pieces: [], finishReason };
      }
      return choice;
    });
    // A tool call's first frame names the function; its arguments follow.
    this.steps = Math.max(0, ...this.choices.map((c) => (c.tool ? 1 : 0) + c.pieces.length));
    this.model = typeof body.model === 'string' ? body.model : (options.model ?? 'sim-model');
    this.id = `chatcmpl-sim-${seq}`;
    const characters = JSON.stringify(body.messages).length;
    const prompt = options.usage?.promptTokens ?? Math.ceil(characters / 4);
    const completion = options.usage?.completionTokens ?? count * n;
    this.#usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      ...(options.usage?.cachedTokens !== undefined
        ? { prompt_tokens_details: { cached_tokens: options.usage.cachedTokens } }
        : {}),
    };
    const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
    this.#includeUsage = streamOptions?.include_usage === true;
  }

  /** Why OpenAI would refuse the request's `n` or `tool_choice`, if it would. */
  static refusal(body: Record<string, unknown>): { message: string; param: string } | undefined {
    if (body.n !== undefined && body.n !== null && Answer.choiceCount(body) === undefined) {
      return { message: `Invalid 'n': expected an integer from 1 to ${MAX_CHOICES}.`, param: 'n' };
    }
    const named = namedToolOf(body.tool_choice);
    if (named !== undefined && !functionsOf(body.tools).some((fn) => fn.name === named)) {
      return {
        message: `Invalid value for 'tool_choice': no function named '${named}' in 'tools'.`,
        param: 'tool_choice',
      };
    }
    return undefined;
  }

  static choiceCount(body: Record<string, unknown>): number | undefined {
    const n = body.n ?? 1;
    return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_CHOICES
      ? (n as number)
      : undefined;
  }

  /** The function the answer calls, or undefined for a text answer. */
  static toolCallOf(body: Record<string, unknown>): ToolCallPlan | undefined {
    const functions = functionsOf(body.tools);
    if (functions.length === 0 || body.tool_choice === 'none') return undefined;
    const messages = body.messages as { role?: unknown }[];
    const last = messages.at(-1);
    // After a tool result, the model answers in text.
    if (last?.role === 'tool' || last?.role === 'function') return undefined;
    const named = namedToolOf(body.tool_choice);
    return functions.find((fn) => fn.name === named) ?? functions[0];
  }

  completion(): Record<string, unknown> {
    return {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices: this.choices.map((choice, index) => ({
        index,
        message: choice.tool
          ? {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: choice.tool.id,
                  type: 'function',
                  function: { name: choice.tool.name, arguments: choice.pieces.join('') },
                },
              ],
            }
          : { role: 'assistant', content: choice.pieces.join('') },
        finish_reason: choice.finishReason,
        logprobs: null,
      })),
      usage: this.#usage,
    };
  }

  /**
   * Every SSE frame of the answer: `steps` content frames (each with one event per choice that
   * has a chunk at that step), the finish frame (an event per choice), usage when asked, `[DONE]`.
   */
  frames(): string[] {
    const usage = this.#includeUsage ? { usage: null } : {};
    const event = (index: number, delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index, delta, finish_reason: finish }], ...usage })}\n\n`;
    const frames: string[] = [];
    for (let step = 0; step < this.steps; step++) {
      let frame = '';
      this.choices.forEach((choice, index) => {
        const delta = deltaOf(choice, step);
        if (delta) frame += event(index, delta, null);
      });
      frames.push(frame);
    }
    frames.push(
      this.choices.map((choice, index) => event(index, {}, choice.finishReason)).join(''),
    );
    if (this.#includeUsage) {
      frames.push(
        `data: ${JSON.stringify({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: this.#usage })}\n\n`,
      );
    }
    frames.push('data: [DONE]\n\n');
    return frames;
  }
}

/** OpenAI's limit on `n`. */
const MAX_CHOICES = 128;

/** The delta of a choice's stream chunk at `step`, or undefined when it has none there. */
function deltaOf(choice: Choice, step: number): Record<string, unknown> | undefined {
  if (!choice.tool) {
    const piece = choice.pieces[step];
    if (piece === undefined) return undefined;
    return step === 0 ? { role: 'assistant', content: piece } : { content: piece };
  }
  if (step === 0) {
    const { id, name } = choice.tool;
    return {
      role: 'assistant',
      content: null,
      tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }],
    };
  }
  const piece = choice.pieces[step - 1];
  if (piece === undefined) return undefined;
  return { tool_calls: [{ index: 0, function: { arguments: piece } }] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `function` tools a request offers. */
function functionsOf(tools: unknown): ToolCallPlan[] {
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown) => {
    if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function)) return [];
    const { name, parameters } = tool.function;
    return typeof name === 'string' ? [{ name, parameters }] : [];
  });
}

/** The function `tool_choice: {type: 'function', function: {name}}` names. */
function namedToolOf(choice: unknown): string | undefined {
  if (!isObject(choice) || choice.type !== 'function' || !isObject(choice.function)) {
    return undefined;
  }
  return typeof choice.function.name === 'string' ? choice.function.name : undefined;
}

/**
 * `text` in `parts` pieces of near-equal length (fewer only when it has fewer characters), so a
 * tool call or a schema document streams in `chunks` frames like text does.
 */
function split(text: string, parts: number): string[] {
  const count = Math.max(1, Math.min(parts, text.length));
  return Array.from({ length: count }, (_, i) =>
    text.slice(Math.round((i * text.length) / count), Math.round(((i + 1) * text.length) / count)),
  );
}

/** JSON text made unparsable: cut before its last character, or a brace added to a scalar. */
function unparsable(text: string): string {
  const cut = text.slice(0, -1);
  try {
    JSON.parse(cut);
  } catch {
    return cut;
  }
  return `${text}}`;
}

/** Waits `ms`; with no latency configured, answers at once (a zero timer still costs ~1 ms). */
async function pause(ms: number): Promise<void> {
  if (ms > 0) await delay(ms);
}

/** Resolves once everything written so far has been handed to the socket. */
function flushed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => response.write('', () => resolve()));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function sendRaw(response: ServerResponse, status: number, type: string, text: string): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  sendRaw(response, status, 'application/json', JSON.stringify(value));
}

function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  code: string | null,
  type = status >= 500
    ? 'server_error'
    : status === 429
      ? 'rate_limit_error'
      : 'invalid_request_error',
  param: string | null = null,
): void {
  sendJson(response, status, { error: { message, type, code, param } });
}

async function trickle(
  response: ServerResponse,
  type: string,
  text: string,
  fault: { bytesPerTick?: number; tickMs?: number },
  gone: () => boolean,
): Promise<void> {
  const bytes = Buffer.from(text);
  const step = fault.bytesPerTick ?? 16;
  response.writeHead(200, { 'content-type': type, 'content-length': bytes.length });
  for (let offset = 0; offset < bytes.length; offset += step) {
    if (gone()) return;
    response.write(bytes.subarray(offset, offset + step));
    await delay(fault.tickMs ?? 10);
  }
  response.end();
}
