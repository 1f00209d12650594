// bench/server.mjs: one benchmark server per process, started by bench/run.mjs.
//
//   node bench/server.mjs waitstate|node PORT
//
// waitstate: serve() from dist/ with examples/hello/app.mjs, inline (threads 0, the default).
// node:      a node:http createServer answering the same bytes: 200, Content-Type
//            text/plain;charset=UTF-8, Content-Length 13, body "Hello, World!".
// Headers that differ and are left as each server sends them: waitstate adds Date and Server,
// node:http adds Date, Connection: keep-alive and Keep-Alive: timeout=5.
//
// Protocol with the driver (stdin/stdout, one line each):
//   stdout "READY <port>"                once listening;
//   stdin  "stats" -> stdout "STATS {json}"   requests the app answered, logger calls by level;
//   stdin closed (the driver died) or SIGINT/SIGTERM -> close and exit 0, so that
//   `node --cpu-prof` writes its profile.
// Both apps count their calls (one increment per request) so the driver can cross-check the
// load tool's count and divide profile time by requests really served.

import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

const [kind, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!['waitstate', 'node'].includes(kind) || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node bench/server.mjs waitstate|node PORT');
  process.exit(2);
}

let requests = 0;
const logs = { error: 0, warn: 0, info: 0 };
const MAX_LOG_LINES = 10; // print the first few logger lines, count the rest

function log(level, args) {
  logs[level]++;
  if (logs[level] <= MAX_LOG_LINES) {
    const text = args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' ');
    process.stderr.write(`${level}: ${text}\n`);
    if (logs[level] === MAX_LOG_LINES) process.stderr.write(`${level}: (further ${level} lines only counted)\n`);
  }
}
const logger = { error: (...a) => log('error', a), warn: (...a) => log('warn', a), info: (...a) => log('info', a) };

let close;
if (kind === 'waitstate') {
  const { serve } = await import('../dist/src/index.js');
  const { app } = await import('../examples/hello/app.mjs');
  const handle = await serve(
    (request, info) => {
      requests++;
      return app(request, info);
    },
    { listen: [`127.0.0.1:${port}`], logger },
  );
  close = () => handle.close();
} else {
  const body = 'Hello, World!';
  const headers = { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': '13' };
  const server = createServer((req, res) => {
    requests++;
    res.writeHead(200, headers);
    res.end(body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

let exiting = false;
async function shutdown() {
  if (exiting) return;
  exiting = true;
  // Bounded: give close() one second, then exit regardless.
  setTimeout(() => process.exit(0), 1000).unref();
  try {
    await close();
  } finally {
    process.exit(0);
  }
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'stats') process.stdout.write(`STATS ${JSON.stringify({ requests, logs })}\n`);
});
lines.on('close', shutdown); // the driver went away

process.stdout.write(`READY ${port}\n`);
