// bench/server-lib.mjs: helpers shared by the benchmark servers bench/server.mjs and
// bench/workers-server.mjs (the driver side is spawnServer in bench/lib.mjs).
//
// Protocol with the driver (stdin/stdout, one line each):
//   stdout "READY <port>"                     once listening;
//   stdin  "stats" -> stdout "STATS {json}"   whatever the server reports;
//   stdin  "close" -> stdout "CLOSED <ms>"    a graceful close (running requests finish; not
//                                             bounded here: the driver bounds its wait), <ms> the
//                                             time close() took; the process then waits to be
//                                             stopped (below; it exits at once);
//   stdin closed (the driver died) or SIGINT/SIGTERM -> close (bounded: 1 s) and exit 0, so that
//   `node --cpu-prof` writes its profile.

import { createInterface } from 'node:readline';

export const HELLO = 'Hello, World!';
export const HELLO_HEADERS = { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': '13' };

/** node:http's hello handler, the same bytes as waitstate's hello app; `onRequest` counts them. */
export function nodeHello(onRequest = () => {}) {
  return (req, res) => {
    onRequest();
    res.writeHead(200, HELLO_HEADERS);
    res.end(HELLO);
  };
}

/** [kind, port] from the command line; prints `usage` and exits 2 when they are not valid. */
export function parseServerArgs(kinds, usage) {
  const [kind, portArg] = process.argv.slice(2);
  const port = Number(portArg);
  if (!kinds.includes(kind) || !Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(usage);
    process.exit(2);
  }
  return [kind, port];
}

/**
 * A logger for serve() that writes the first maxLines lines per level to stderr and counts them
 * all in `logs` (by level); with announceCutoff, the maxLines-th line is followed by a note that
 * further lines are only counted.
 */
export function countingLogger(maxLines, { announceCutoff = false } = {}) {
  const logs = { error: 0, warn: 0, info: 0 };
  function log(level, args) {
    logs[level]++;
    if (logs[level] <= maxLines) {
      const text = args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' ');
      process.stderr.write(`${level}: ${text}\n`);
      if (announceCutoff && logs[level] === maxLines) process.stderr.write(`${level}: (further ${level} lines only counted)\n`);
    }
  }
  const logger = { error: (...a) => log('error', a), warn: (...a) => log('warn', a), info: (...a) => log('info', a) };
  return { logs, log, logger };
}

/** Listen on 127.0.0.1 (listen options: port, backlog ...); resolves once listening. */
export function listen(server, options) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', ...options }, resolve);
  });
}

/** Close a node:http server and all its connections; resolves once closed. */
export function closeNodeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Speak the driver protocol: answer "stats" with `STATS {await stats()}`; on "close", await
 * gracefulClose() (close() if not given) and print `CLOSED <ms>` (the process then waits, so that
 * its CPU time can still be read, until it is stopped); close() and exit 0 on SIGINT/SIGTERM or
 * when stdin closes (at once after a graceful close); then print READY.
 */
export function serveDriver(port, { close, stats, gracefulClose = close }) {
  let exiting = false;
  let closing = false;
  let closed = false;
  async function shutdown() {
    if (exiting) return;
    exiting = true;
    if (closed) process.exit(0);
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
  lines.on('line', async (line) => {
    const command = line.trim();
    if (command === 'stats') process.stdout.write(`STATS ${JSON.stringify(await stats())}\n`);
    else if (command === 'close' && !closing && !exiting) {
      closing = true;
      const t0 = performance.now();
      try {
        await gracefulClose();
      } finally {
        closed = true;
        process.stdout.write(`CLOSED ${Math.round(performance.now() - t0)}\n`);
      }
    }
  });
  lines.on('close', shutdown); // the driver went away

  process.stdout.write(`READY ${port}\n`);
}
