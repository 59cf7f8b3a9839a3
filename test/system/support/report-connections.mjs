// Preloaded into a sample process (`node --import`) by tests that need to know which connections
// the server accepted, and when its listening socket closed:
// - `{"event":"accepted","port":<client port>,"at":<ms>}` for each connection, from Node's own
//   `net.server.socket` diagnostics channel;
// - `{"event":"listener-closed","at":<ms>}` when a listening server's `net.Server#close()` is
//   called, taken just before the listening socket closes (the shutdown's own phase event comes
//   after an await, late by however long the event loop is busy).
// It observes; it changes nothing.
import { subscribe } from 'node:diagnostics_channel';
import { Server } from 'node:net';

subscribe('net.server.socket', ({ socket }) => {
  process.stdout.write(
    `${JSON.stringify({ event: 'accepted', port: socket.remotePort, at: Date.now() })}\n`,
  );
});

const close = Server.prototype.close;
Server.prototype.close = function (...args) {
  if (this.listening) {
    process.stdout.write(`${JSON.stringify({ event: 'listener-closed', at: Date.now() })}\n`);
  }
  return Reflect.apply(close, this, args);
};
