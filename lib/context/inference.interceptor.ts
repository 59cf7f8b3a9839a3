import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { runWithRequestContext, type InferenceRequestContext } from './request-context.js';
import { requestIdFrom } from './request-id.js';

/**
 * Opens the request context for each HTTP request a route handles, so `InferenceService` calls
 * made while handling it reuse its `x-request-id`. Registered globally by `InferenceModule`
 * (option `globalInterceptor`, on by default); interceptors registered with `APP_INTERCEPTOR`
 * run in module order, so it wraps the interceptors of modules imported after it.
 */
@Injectable()
export class InferenceInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<{ headers?: Record<string, unknown> }>();
    const requestContext = this.createContext(request.headers ?? {});
    // The handler runs when the inner observable is subscribed: subscribe inside the context.
    return new Observable((subscriber) =>
      runWithRequestContext(requestContext, () => next.handle().subscribe(subscriber)),
    );
  }

  /** Builds the context of one request; override to take the id from another header. */
  protected createContext(headers: Record<string, unknown>): InferenceRequestContext {
    return { requestId: requestIdFrom(headers['x-request-id']) };
  }
}
