// bench/websocket-server.mjs: one WebSocket echo server per process, started by bench/websocket.mjs.
//
//   node bench/websocket-server.mjs ws-node|waitstate|waitstate-threads|waitstate-hono PORT
//
// ws-node:           ws's WebSocketServer on a node:http server (`new WebSocketServer({ server })`),
//                    echoing each message as ws hands it (the bytes, text or binary as it came).
// waitstate:         serve() inline (threads 0), bench/websocket-app.mjs (upgradeWebSocket()).
// waitstate-threads: serve() with 2 worker threads, the same app by module reference: the socket
//                    and ws stay on the main thread, the app's socket in a worker.
// waitstate-hono:    serve() inline, a Hono app with waitstate/hono's upgradeWebSocket helper.
// Every server answers a request that is not a WebSocket handshake with 426.
//
// Protocol with the driver (bench/server-lib.mjs): stdout "READY <port>"; stdin "stats" -> stdout
// "STATS {json}" (messages echoed, where the process can count them: not by worker threads;
// logger lines by level); stdin closed or SIGTERM -> close (bounded: 1 s) and exit 0.

import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { closeNodeServer, countingLogger, listen, parseServerArgs, serveDriver } from './server-lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url)); // not from lib.mjs: it installs the driver's signal handlers
const KINDS = ['ws-node', 'waitstate', 'waitstate-threads', 'waitstate-hono'];
const [kind, port] = parseServerArgs(KINDS, `usage: node bench/websocket-server.mjs ${KINDS.join('|')} PORT`);

const { logs, logger } = countingLogger(10, { announceCutoff: true });
let close;
let messages = () => undefined;

if (kind === 'ws-node') {
  let echoed = 0;
  const server = createServer((req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      echoed++;
      ws.send(data, { binary: isBinary });
    });
  });
  await listen(server, { port });
  messages = () => echoed;
  close = async () => {
    for (const ws of wss.clients) ws.terminate();
    await closeNodeServer(server);
  };
} else {
  const { serve } = await import('../dist/src/index.js');
  const listenOn = { listen: [`127.0.0.1:${port}`], logger };
  let handle;
  if (kind === 'waitstate') {
    const { app, echoed } = await import('./websocket-app.mjs');
    handle = await serve(app, { ...listenOn, threads: 0 });
    messages = () => echoed.messages;
  } else if (kind === 'waitstate-threads') {
    handle = await serve(`${join(HERE, 'websocket-app.mjs')}:app`, { ...listenOn, threads: 2 });
  } else {
    const { Hono } = await import('hono');
    const { upgradeWebSocket } = await import('../dist/src/hono.js');
    let echoed = 0;
    const app = new Hono().get(
      '/',
      upgradeWebSocket(() => ({
        onMessage: (event, ws) => {
          echoed++;
          ws.send(event.data);
        },
      })),
    );
    handle = await serve(app, { ...listenOn, threads: 0 });
    messages = () => echoed;
  }
  close = () => handle.close();
}

serveDriver(port, { close, stats: () => ({ messages: messages(), logs }) });
