// bench/websocket-app.mjs: the echo app of bench/websocket.mjs, a Fetch handler using
// upgradeWebSocket(): every message goes back as it came (a string as a text message, an
// ArrayBuffer as a binary one). Loaded inline and, by reference, in worker threads.
import { upgradeWebSocket } from '../dist/src/index.js';

/** Messages echoed by this thread's sockets (inline, the server process reads it for its stats). */
export const echoed = { messages: 0 };

export const app = (request) => {
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response('a WebSocket echo', { status: 426 });
  const { socket, response } = upgradeWebSocket(request);
  socket.onmessage = (event) => {
    echoed.messages++;
    socket.send(event.data);
  };
  return response;
};
