// bench/time-server.mjs: one server per process for bench/time.mjs (time and concurrency).
//
//   node bench/time-server.mjs KIND PORT
//
// KIND           what (every one serves bench/time-app.mjs)                    scenarios
//   ws-inline    waitstate, DEFAULT options (threads 0: the app runs inline)    slowloris, async-io
//   ws-threads4  waitstate, threads 4, the app by module reference              async-io
//   ws-threads2  waitstate, threads 2, the app by module reference              sse, shutdown
//   node         node:http createServer with its defaults (headersTimeout 60 s, requestTimeout
//                300 s, keepAliveTimeout 5 s, no clientError listener: a late head gets node's own
//                408), nodeHandler from time-app.mjs                         all
//
// Protocol with the driver (one line each, bench/server-lib.mjs): stdout "READY <port>" once
// listening; stdin "stats" -> stdout "STATS {json}" (open connections, logger lines by level);
// stdin "close" -> a graceful close (waitstate: close(), which lets running requests finish;
// node:http: server.close() and its 'close' event, i.e. until every connection has ended), then
// stdout "CLOSED <ms>" (the process stays until it is stopped); stdin closed or SIGTERM -> close
// at once (bounded: 1 s) and exit 0. Logger lines go to stderr (first 10 per level) and are counted.

import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeNodeServer, countingLogger, listen, parseServerArgs, serveDriver } from './server-lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const APP_REF = `${join(HERE, 'time-app.mjs')}:app`;
const KINDS = ['ws-inline', 'ws-threads4', 'ws-threads2', 'node'];

const [kind, port] = parseServerArgs(KINDS, `usage: node bench/time-server.mjs ${KINDS.join('|')} PORT`);

const { logs, logger } = countingLogger(10, { announceCutoff: true });

let close;
let gracefulClose;
let connections = () => undefined;

async function waitstate(app, options) {
  const { serve } = await import('../dist/src/index.js');
  const handle = await serve(app, { listen: [`127.0.0.1:${port}`], logger, ...options });
  close = gracefulClose = () => handle.close();
  connections = () => handle.connections;
}

switch (kind) {
  case 'ws-inline': {
    const { app } = await import('./time-app.mjs');
    await waitstate(app, {});
    break;
  }
  case 'ws-threads4':
    await waitstate(APP_REF, { threads: 4 });
    break;
  case 'ws-threads2':
    await waitstate(APP_REF, { threads: 2 });
    break;
  case 'node': {
    const { nodeHandler } = await import('./time-app.mjs');
    const server = createServer(nodeHandler);
    await listen(server, { port });
    close = () => closeNodeServer(server);
    gracefulClose = () => new Promise((resolve) => server.close(() => resolve()));
    connections = () => new Promise((resolve) => server.getConnections((err, n) => resolve(err ? undefined : n)));
    break;
  }
}

serveDriver(port, { close, gracefulClose, stats: async () => ({ connections: await connections(), logs }) });
