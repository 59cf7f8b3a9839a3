import { Pool } from 'undici';

export interface CallResult {
  id: string;
  stream: boolean;
  status: number;
  connection: string | undefined;
  retryAfter: string | undefined;
  body: string;
  /** `Date.now()` when the response ended. */
  endedAt: number;
  error?: string;
}

export const PROMPT = { messages: [{ role: 'user', content: 'Recommend a book' }] };

/** One chat completion through the gateway, unary or streamed; never throws. */
export async function callGateway(
  pool: Pool,
  id: string,
  stream: boolean,
  headers: Record<string, string> = {},
): Promise<CallResult> {
  try {
    const response = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json', 'x-request-id': id, ...headers },
      body: JSON.stringify({ ...PROMPT, stream }),
    });
    const body = await response.body.text();
    return {
      id,
      stream,
      status: response.statusCode,
      connection: header(response.headers.connection),
      retryAfter: header(response.headers['retry-after']),
      body,
      endedAt: Date.now(),
    };
  } catch (error) {
    return {
      id,
      stream,
      status: 0,
      connection: undefined,
      retryAfter: undefined,
      body: '',
      endedAt: Date.now(),
      error: String(error),
    };
  }
}

/** The text of a unary answer, or of a stream's deltas; `done` when a stream ended with [DONE]. */
export function contentOf(result: CallResult): {
  text: string;
  done: boolean;
  errorFrame?: string;
} {
  if (!result.stream || !result.body.startsWith('data:')) {
    try {
      const parsed = JSON.parse(result.body) as { choices?: { message?: { content?: string } }[] };
      return { text: parsed.choices?.[0]?.message?.content ?? '', done: true };
    } catch {
      return { text: '', done: false };
    }
  }
  let text = '';
  let done = false;
  let errorFrame: string | undefined;
  for (const line of result.body.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const data = line.slice(6);
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    const frame = JSON.parse(data) as {
      choices?: { delta?: { content?: string } }[];
      error?: { code?: string };
    };
    if (frame.error) errorFrame = frame.error.code ?? 'error';
    text += frame.choices?.[0]?.delta?.content ?? '';
  }
  return { text, done, errorFrame };
}

/** The simulated provider's answer with `chunks` chunks. */
export function expectedContent(chunks: number): string {
  return Array.from({ length: chunks }, (_, index) => `tok${index} `).join('');
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function newPool(url: string, connections: number): Pool {
  return new Pool(url, { connections, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
}
