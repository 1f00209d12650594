// bench/server.mjs: one benchmark server per process, started by bench/run.mjs and bench/peers.mjs.
//
//   node bench/server.mjs waitstate|node|base|hono|fastify|waitstate-hono PORT
//
// waitstate:      serve() from dist/ with examples/hello/app.mjs, inline (threads 0, the default).
// base:           the same, from the build named by BENCH_BASELINE_INDEX (bench/run.mjs --baseline).
// node:           a node:http createServer answering the same bytes: 200, Content-Type
//                 text/plain;charset=UTF-8, Content-Length 13, body "Hello, World!".
// hono:           a Hono app (GET / -> c.text) on @hono/node-server, as Hono's Node.js docs serve it.
// waitstate-hono: the same Hono app on waitstate's serve(), inline.
// fastify:        a fastify app, GET / returning the text (fastify's own text/plain; charset=utf-8).
// Headers that differ and are left as each server sends them: waitstate adds Date and Server,
// node:http (and the servers built on it) Date, Connection: keep-alive and Keep-Alive: timeout=5.
//
// Protocol with the driver (stdin/stdout, one line each):
//   stdout "READY <port>"                once listening;
//   stdin  "stats" -> stdout "STATS {json}"   requests the app answered, logger calls by level;
//   stdin closed (the driver died) or SIGINT/SIGTERM -> close and exit 0, so that
//   `node --cpu-prof` writes its profile.
// Every app counts its calls (one increment per request) so the driver can cross-check the
// load tool's count and divide profile time by requests really served.

import { createServer } from 'node:http';
import { HELLO, closeNodeServer, countingLogger, listen, nodeHello, parseServerArgs, serveDriver } from './server-lib.mjs';

const KINDS = ['waitstate', 'node', 'base', 'hono', 'fastify', 'waitstate-hono'];
const [kind, port] = parseServerArgs(KINDS, `usage: node bench/server.mjs ${KINDS.join('|')} PORT`);

let requests = 0;
const MAX_LOG_LINES = 10; // print the first few logger lines, count the rest
const { logs, logger } = countingLogger(MAX_LOG_LINES, { announceCutoff: true });

let close;
if (kind === 'waitstate' || kind === 'base') {
  const { serve } = await import(kind === 'base' ? process.env.BENCH_BASELINE_INDEX : '../dist/src/index.js');
  const { app } = await import('../examples/hello/app.mjs');
  const handle = await serve(
    (request, info) => {
      requests++;
      return app(request, info);
    },
    { listen: [`127.0.0.1:${port}`], logger },
  );
  close = () => handle.close();
} else if (kind === 'hono' || kind === 'waitstate-hono') {
  const { Hono } = await import('hono');
  const app = new Hono().get('/', (c) => {
    requests++;
    return c.text(HELLO);
  });
  if (kind === 'hono') {
    const { serve } = await import('@hono/node-server');
    const server = await new Promise((resolve) => {
      const started = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(started));
    });
    close = () => closeNodeServer(server);
  } else {
    const { serve } = await import('../dist/src/index.js');
    const handle = await serve(app, { listen: [`127.0.0.1:${port}`], logger });
    close = () => handle.close();
  }
} else if (kind === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.get('/', async () => {
    requests++;
    return HELLO;
  });
  await app.listen({ port, host: '127.0.0.1' });
  close = () => app.close();
} else {
  const server = createServer(nodeHello(() => requests++));
  await listen(server, { port });
  close = () => closeNodeServer(server);
}

serveDriver(port, { close, stats: () => ({ requests, logs }) });
