import { HttpException, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { rolloutConfig, type RolloutConfig } from '../config/rollout.config.js';

/** What a rollout route needs: `read` (the status, figures, events) or `admin` (the actions). */
export type RolloutScope = 'read' | 'admin';

/** An error body in OpenAI's shape, as the gateway's other errors are. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

/** A refusal: the status and body to answer with. */
export interface RolloutDenial {
  status: 401 | 403;
  body: OpenAiErrorBody;
}

export function openAiError(
  type: string,
  message: string,
  code: string | null = null,
  param: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, code, param } };
}

/** An `HttpException` whose body is in OpenAI's error shape (Nest sends an object body as is). */
export function openAiException(
  status: number,
  type: string,
  message: string,
  code: string | null = null,
  param: string | null = null,
): HttpException {
  return new HttpException(openAiError(type, message, code, param), status);
}

// Digests have one length whatever the token's, so `timingSafeEqual` can compare them and the
// time taken says nothing about the token's length or its first differing byte.
const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The credentials of an `Authorization` header; the scheme is case-insensitive (RFC 9110). */
function bearerOf(authorization: string | undefined): string | undefined {
  return /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1];
}

/**
 * Who may read and move the rollout. `ROLLOUT_ADMIN_TOKEN` allows everything; without it the
 * actions are disabled (403). `ROLLOUT_READ_TOKEN`, when set, is needed to read (the admin token
 * reads too); when unset, reading is open. Tokens are compared in constant time.
 */
@Injectable()
export class RolloutAccess {
  readonly #admin: Buffer | undefined;
  readonly #read: Buffer | undefined;

  constructor(@Inject(rolloutConfig.KEY) config: RolloutConfig) {
    this.#admin = tokenDigest(config.adminToken);
    this.#read = tokenDigest(config.readToken);
  }

  /** Whether reading needs a token (the dashboard asks for one then). */
  get readProtected(): boolean {
    return this.#read !== undefined;
  }

  /** `undefined` when `authorization` allows `scope`, else why not. */
  check(authorization: string | undefined, scope: RolloutScope): RolloutDenial | undefined {
    if (scope === 'admin' && !this.#admin) {
      return {
        status: 403,
        body: openAiError(
          'permission_error',
          'Rollout actions are disabled: set ROLLOUT_ADMIN_TOKEN to enable them.',
          'rollout_actions_disabled',
        ),
      };
    }
    if (scope === 'read' && !this.#read) return undefined;
    const token = bearerOf(authorization);
    const given = token === undefined ? undefined : digest(token);
    // Both comparisons always run, so the time taken does not say which token matched.
    const isAdmin = matches(given, this.#admin);
    const isReader = matches(given, this.#read);
    if (isAdmin) return undefined;
    if (scope === 'read' && isReader) return undefined;
    if (isReader) {
      return {
        status: 403,
        body: openAiError(
          'permission_error',
          'The read token cannot act on the rollout: use ROLLOUT_ADMIN_TOKEN.',
          'insufficient_scope',
        ),
      };
    }
    const needed = scope === 'admin' ? 'ROLLOUT_ADMIN_TOKEN' : 'ROLLOUT_READ_TOKEN';
    const what = scope === 'admin' ? 'Rollout actions need' : 'Reading the rollout needs';
    return {
      status: 401,
      body: openAiError(
        'authentication_error',
        token === undefined
          ? `${what} Authorization: Bearer <${needed}>.`
          : `${what} Authorization: Bearer <${needed}>: the token given is not it.`,
        token === undefined ? 'missing_token' : 'invalid_token',
      ),
    };
  }
}

function tokenDigest(token: string | undefined): Buffer | undefined {
  return token ? digest(token) : undefined;
}

function matches(given: Buffer | undefined, expected: Buffer | undefined): boolean {
  if (!given || !expected) return false;
  return timingSafeEqual(given, expected);
}
