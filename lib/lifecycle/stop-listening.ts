import type { Server as HttpServer } from 'node:http';
import { Server as NetServer } from 'node:net';

/**
 * Closes the server's listening socket, so new connections are refused, and leaves every open
 * connection alone. Resolves once the listening socket is closed.
 *
 * `http.Server#close()` cannot do that: since Node 19 it first calls `closeIdleConnections()`
 * (`httpServerPreClose` in Node 20 and 24 alike), which destroys the keep-alive sockets that are
 * idle at that instant, including one a client is writing a request on. `net.Server#close()`
 * only closes the listening handle; the server still emits `'close'` once its last connection has
 * ended, and its check of `headersTimeout`/`requestTimeout` keeps running until someone calls
 * `http.Server#close()` later (Nest's adapter does, after the drain).
 *
 * Closing a listening socket resets every connection the kernel has accepted for it that the
 * process has not accepted yet, after the client may have written its request. Those pile up
 * while the event loop is busy or the process waits for a CPU. The close runs in the check phase,
 * right after a poll phase has accepted what was queued (a timer fires before the poll phase of
 * its loop iteration, when everything that arrived during a stall is still queued).
 */
export function stopListening(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(() => {
      if (server.listening) NetServer.prototype.close.call(server);
      resolve();
    });
  });
}
