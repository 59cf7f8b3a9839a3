// Preloaded into a sample process (`node --import`) by tests that need to know which connections
// the server accepted: prints `{"event":"accepted","port":<client port>,"at":<ms>}` for each one,
// from Node's own `net.server.socket` diagnostics channel. It observes; it changes nothing.
import { subscribe } from 'node:diagnostics_channel';

subscribe('net.server.socket', ({ socket }) => {
  process.stdout.write(
    `${JSON.stringify({ event: 'accepted', port: socket.remotePort, at: Date.now() })}\n`,
  );
});
