import { describe, expect, it } from 'vitest';
import { checkCallOptions } from '../../../lib/call/call-options.js';
import { InferenceRequestError } from '../../../lib/errors/index.js';
import type { ChatCallOptions } from '../../../lib/index.js';

const check = (options: ChatCallOptions) => () => checkCallOptions(options, 'req-1', 'sim');

describe('checkCallOptions: timeouts', () => {
  it('refuses a budget Node timers cannot wait for, as the caller’s mistake, naming the field', () => {
    // Above 2^31 - 1 ms, Node fires a timer after 1 ms instead.
    const tooLong = check({ timeouts: { idleMs: 2 ** 31 } });
    expect(tooLong).toThrow(InferenceRequestError);
    expect(tooLong).toThrow(/Call option timeouts\.idleMs is 2147483648, above the limit/);
  });

  it('accepts fractions, and headersMs 0 (off), up to a day', () => {
    expect(check({ timeouts: { headersMs: 0, totalMs: 86_400_000, idleMs: 0.5 } })).not.toThrow();
    expect(check({ timeouts: { totalMs: 0 } })).toThrow(
      /Call option timeouts\.totalMs must be a positive number of milliseconds, got 0/,
    );
  });

  it('takes timeouts: null as none given, and refuses a budget that is not an object, saying what it takes', () => {
    expect(check({ timeouts: null as never })).not.toThrow();
    expect(check({ timeouts: 5000 as never })).toThrow(
      /Call option timeouts must be an object of budgets in ms, for example \{ totalMs: 30000 \}/,
    );
  });
});
