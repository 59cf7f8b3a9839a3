import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { InferenceModel } from '../model/inference-model.decorator.js';
import { InflightRegistry } from '../lifecycle/inflight.registry.js';
import type { InflightRequest } from '../lifecycle/inflight-request.js';
import type { ModelSelection } from '../model/model-selection.js';
import { HttpRequestContext } from './http-request-context.js';
import { runWithRequestContext, type InferenceRequestContext } from './request-context.js';
import { requestIdFrom } from '../lifecycle/request-id.js';

/** Express hands out Node's own objects; Fastify wraps them (`raw`). */
type AdapterMessage = IncomingMessage | { raw: IncomingMessage };
type AdapterResponse = ServerResponse | { raw: ServerResponse };

/**
 * Opens the request context of each HTTP request a route handles, and ties it to the request's
 * entry in the in-flight registry: calls made while handling it reuse its `x-request-id` and the
 * route's `@InferenceModel(...)`, are listed under it, and are allowed while the app drains. The
 * request stays in flight until its response is written (for a stream, until the stream ends or
 * the client disconnects). The response carries the request id as `x-request-id`, and the
 * context's `signal` aborts, with every call made for the request, if the client disconnects
 * before its response is complete.
 *
 * Registered for every route by `InferenceModule` (option `globalInterceptor`, on by default);
 * otherwise apply it with `@UseInterceptors(InferenceInterceptor)` on a controller. Global
 * interceptors run in module order, before controller and handler ones, so it wraps them all.
 */
@Injectable()
export class InferenceInterceptor implements NestInterceptor {
  /** Per controller, per handler: a handler may be inherited by controllers with their own. */
  readonly #models = new WeakMap<object, WeakMap<object, ModelSelection | undefined>>();

  constructor(
    private readonly registry: InflightRegistry,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<AdapterMessage>();
    const message = rawOf(request);
    const response = rawOf(http.getResponse<AdapterResponse>());
    const inflight =
      this.registry.requestOf(message) ?? this.registry.trackRequest(message, response);
    const requestContext = this.createContext(message.headers, inflight);
    requestContext.model ??= this.#modelOf(context);
    if (inflight.id !== requestContext.requestId) {
      inflight.id = requestContext.requestId;
      if (!response.headersSent) response.setHeader('x-request-id', requestContext.requestId);
    }
    inflight.route = `${message.method ?? 'GET'} ${routeOf(request, message)}`;
    inflight.handled = true;
    requestContext.inflight = inflight;
    // The default context makes its signal only if read; another one gets it now.
    if (!(requestContext instanceof HttpRequestContext)) requestContext.signal ??= inflight.signal;
    // The handler runs when the inner observable is subscribed, and an Observable it returns when
    // that one is: subscribe inside the context, so both run in it.
    return new Observable((subscriber) =>
      runWithRequestContext(requestContext, () => next.handle().subscribe(subscriber)),
    );
  }

  /**
   * Builds the context of one request; override to take the id from another header. By default
   * the id is the in-flight entry's: the incoming `x-request-id` when usable, else the one the
   * response already carries.
   */
  protected createContext(
    headers: IncomingHttpHeaders,
    inflight?: InflightRequest,
  ): InferenceRequestContext {
    if (inflight) return new HttpRequestContext(inflight.id, headers, inflight);
    return { requestId: requestIdFrom(headers['x-request-id']), headers };
  }

  /** The route's `@InferenceModel(...)`, read once per route: metadata is fixed at startup. */
  #modelOf(context: ExecutionContext): ModelSelection | undefined {
    const controller = context.getClass();
    const handler = context.getHandler();
    let models = this.#models.get(controller);
    if (models === undefined) this.#models.set(controller, (models = new WeakMap()));
    if (models.has(handler)) return models.get(handler);
    const model = this.reflector.getAllAndOverride(InferenceModel, [handler, controller]);
    models.set(handler, model);
    return model;
  }
}

function rawOf<T extends object>(value: T | { raw: T }): T {
  const raw = (value as { raw?: T }).raw;
  return typeof raw === 'object' && raw !== null ? raw : (value as T);
}

/** The route's pattern when the adapter knows it (`/users/:id`), otherwise the path. */
function routeOf(request: AdapterMessage, message: IncomingMessage): string {
  const known = request as {
    route?: { path?: unknown }; // Express
    routeOptions?: { url?: unknown }; // Fastify
  };
  const pattern = known.route?.path ?? known.routeOptions?.url;
  if (typeof pattern === 'string') return pattern;
  const url = message.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
