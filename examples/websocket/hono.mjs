// examples/websocket/hono.mjs: WebSockets in a Hono app served by waitstate. Hono's
// upgradeWebSocket helpers are one per runtime (hono/deno, hono/bun, …); waitstate's is
// waitstate/hono. Serve with (worker threads too)
//   npx waitstate-serve --listen=127.0.0.1:8080 examples/websocket/hono.mjs:app
// test/functional/websocket.test.ts opens a socket on it.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { upgradeWebSocket } from 'waitstate/hono';

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
