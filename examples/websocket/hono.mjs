// examples/websocket/hono.mjs: WebSockets in a Hono app served by waitstate. Hono's
// upgradeWebSocket helpers are one per runtime (hono/deno, hono/bun, …); this one is waitstate's,
// made with Hono's defineWebSocketHelper over waitstate's upgradeWebSocket() (Deno's API). Serve with
//   npx waitstate-serve --listen=127.0.0.1:8080 examples/websocket/hono.mjs:app
// test/functional/websocket.test.ts opens a socket on it.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { defineWebSocketHelper, WSContext } from 'hono/ws';
import { upgradeWebSocket as upgrade } from 'waitstate';

export const upgradeWebSocket = defineWebSocketHelper((c, events, options) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return;
  const { socket, response } = upgrade(c.req.raw, options);
  const ws = new WSContext({
    raw: socket,
    url: socket.url,
    get protocol() {
      return socket.protocol;
    },
    get readyState() {
      return socket.readyState;
    },
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
  });
  socket.onopen = (event) => events.onOpen?.(event, ws);
  socket.onmessage = (event) => events.onMessage?.(event, ws);
  socket.onclose = (event) => events.onClose?.(event, ws);
  socket.onerror = (event) => events.onError?.(event, ws);
  return response;
});

export const app = new Hono();
// Middleware runs for the handshake as for any request: CORS's fields go out with the 101.
app.use(cors({ origin: 'https://shop.example' }));
app.get(
  '/ws',
  upgradeWebSocket(() => ({
    onOpen: (_event, ws) => ws.send('welcome'),
    onMessage: (event, ws) => ws.send(`echo: ${event.data}`),
  })),
);
app.get('/', (c) => c.text('Hello, World!'));
