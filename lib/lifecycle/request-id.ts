import { randomUUID } from 'node:crypto';

/** Ids we accept from outside and forward upstream: short, and safe in a header and a log line. */
const USABLE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The incoming id when it is usable, otherwise a new one. */
export function requestIdFrom(incoming: unknown): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return typeof value === 'string' && USABLE_ID.test(value) ? value : randomUUID();
}
