// bench/workers-server.mjs: one server per process for bench/workers.mjs.
//
//   node bench/workers-server.mjs KIND PORT
//
// KIND                 what                                                    scenario
//   ws-hello-inline    waitstate, threads 0, examples/hello/app.mjs:app        hello
//   ws-hello-threads   waitstate, threads 4, same app by module reference      hello
//   ws-hello-window1   the same with dispatchWindow 1 (Waitress's dispatch)    hello
//   ws-cpu-threads     waitstate, threads 4, bench/cpu-app.mjs:app             cpu
//   node-cpu           node:http, bench/cpu-app.mjs burn() inline on /cpu      cpu
//   ws-stream          waitstate, threads 0, bench/stream-app.mjs              transfer
//   node-stream        node:http, the same routes with streams                 transfer
//   ws-idle            waitstate, threads 0, hello, connectionLimit/backlog 20000   idle
//   node-idle          node:http, hello, keepAliveTimeout 120 s (waitstate's channelTimeout)
//
// Protocol with the driver (one line each): stdout "READY <port>" once listening; stdin "stats"
// -> stdout "STATS {json}" (open connections, logger lines); stdin closed or SIGTERM -> close
// (bounded: 1 s) and exit 0. Logger lines go to stderr (first 10 per level) and are counted.

import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { closeNodeServer, countingLogger, listen, nodeHello, parseServerArgs, serveDriver } from './server-lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const KINDS = [
  'ws-hello-inline',
  'ws-hello-threads',
  'ws-hello-window1',
  'ws-cpu-threads',
  'node-cpu',
  'ws-stream',
  'node-stream',
  'ws-idle',
  'node-idle',
];

const [kind, port] = parseServerArgs(KINDS, `usage: node bench/workers-server.mjs ${KINDS.join('|')} PORT`);

const { logs, log, logger } = countingLogger(10);

let close;
let connections = () => undefined;

async function waitstate(app, options) {
  const { serve } = await import('../dist/src/index.js');
  const handle = await serve(app, { listen: [`127.0.0.1:${port}`], logger, ...options });
  close = () => handle.close();
  connections = () => handle.connections;
}

async function node(handler, setup = () => {}) {
  const server = createServer(handler);
  setup(server);
  await listen(server, { port, backlog: 20000 });
  server.on('clientError', (error, socket) => {
    log('warn', [`clientError ${error.code ?? error.message}`]);
    socket.destroy();
  });
  close = () => closeNodeServer(server);
  connections = () => new Promise((resolve) => server.getConnections((err, n) => resolve(err ? undefined : n)));
}

switch (kind) {
  case 'ws-hello-inline': {
    const { app } = await import('../examples/hello/app.mjs');
    await waitstate(app, { threads: 0 });
    break;
  }
  case 'ws-hello-threads':
    await waitstate(`${join(ROOT, 'examples/hello/app.mjs')}:app`, { threads: 4 });
    break;
  case 'ws-hello-window1':
    await waitstate(`${join(ROOT, 'examples/hello/app.mjs')}:app`, { threads: 4, dispatchWindow: 1 });
    break;
  case 'ws-cpu-threads':
    await waitstate(`${join(HERE, 'cpu-app.mjs')}:app`, { threads: 4 });
    break;
  case 'node-cpu': {
    const { burn, CPU_ITERS } = await import('./cpu-app.mjs');
    await node((req, res) => {
      const body = req.url.endsWith('/cpu') ? String(burn(CPU_ITERS)) : 'cheap';
      res.writeHead(200, { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
    break;
  }
  case 'ws-stream': {
    const { app } = await import('./stream-app.mjs');
    // A little over 1 GiB so that exactly 1 GiB is not refused by the default limit (1 GiB).
    await waitstate(app, { threads: 0, maxRequestBodySize: 2 ** 31 });
    break;
  }
  case 'node-stream': {
    const { CHUNK, TOTAL } = await import('./stream-app.mjs');
    await node((req, res) => {
      if (req.method === 'POST') {
        let n = 0;
        req.on('data', (chunk) => (n += chunk.length));
        req.on('end', () => res.end(String(n)));
        return;
      }
      if (req.url.endsWith('/download')) {
        let sent = 0;
        const body = new Readable({
          read() {
            if (sent >= TOTAL) return this.push(null);
            const n = Math.min(CHUNK, TOTAL - sent);
            sent += n;
            this.push(Buffer.alloc(n));
          },
        });
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(TOTAL) });
        body.pipe(res);
        return;
      }
      if (req.url.endsWith('/file')) {
        const path = process.env.BENCH_FILE;
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(statSync(path).size) });
        createReadStream(path, { highWaterMark: CHUNK }).pipe(res);
        return;
      }
      res.writeHead(404).end();
    });
    break;
  }
  case 'ws-idle': {
    const { app } = await import('../examples/hello/app.mjs');
    await waitstate(app, { threads: 0, connectionLimit: 20000, backlog: 20000 });
    break;
  }
  case 'node-idle':
    await node(nodeHello(), (server) => {
      server.keepAliveTimeout = 120_000; // node's default 5 s would close the idle connections
      server.headersTimeout = 130_000;
    });
    break;
}

serveDriver(port, { close, stats: async () => ({ connections: await connections(), logs }) });
