#!/usr/bin/env node
// bench/time.mjs: time and concurrency: slowloris, async I/O, SSE first events, graceful shutdown.
//
//   npm run bench:time                  (= npm run build && node bench/time.mjs)
//   node bench/time.mjs [--only slowloris,async-io,sse,shutdown] [--slowloris-seconds S]
//       [--heads N] [--bodies N] [--rounds N] [--async-clients N] [--sse-clients N] [--shutdown-requests N]
//   node bench/time.mjs --only slowloris-heads   (or slowloris-bodies: one half of the attack; not in
//                                                 the default set, which runs the combined one)
//   BENCH_PORT=19000 node bench/time.mjs   (ports BENCH_PORT .. BENCH_PORT+8; default 18380)
//
// Files: time.mjs (this driver: it is also every client), time-server.mjs (every server, one
// process each), time-app.mjs (the routes, for waitstate and node:http), lib.mjs and
// server-lib.mjs (helpers shared with bench/run.mjs and bench/workers.mjs).
//
// WHAT IT MEASURES. Latency and deadlines, not throughput: waitstate and node:http (its defaults:
// headersTimeout 60 s, requestTimeout 300 s, keepAliveTimeout 5 s) side by side in the same run.
// SCENARIOS (each prints a table; the last line, BENCH_JSON {...}, holds all figures):
//
// 1. slowloris: the attack, bounded. --heads (1000) connections trickle a request HEAD ("GET /
//    HTTP/1.1\r\nHost: a\r\nX-a: " then one byte every 2 s, never ending it) and --bodies (200)
//    trickle a BODY (a whole head "POST / ... Content-Length: 100000", then one byte every 2 s).
//    When the server closes one, another takes its place (the pressure stays). The initial opens
//    ramp up over ~2 s; then a PROBE, a fresh connection every 0.5 s sending "GET / ... Connection:
//    close", succeeds when a 200 status line arrives within 2 s of the connect. --slowloris-seconds
//    (75) per server, waitstate (DEFAULT options, threads 0) first, then node:http, each in a fresh
//    process. Reported: probes, % answered 200 within 2 s, probe latency p50/p99/max (answered
//    ones), slow connections the server closed and the time from a connection's first byte to the
//    server's close (median/max, heads and bodies apart), those still open at the end and the
//    oldest one's age, and the server's peak RSS (VmHWM, /proc/PID/status, start-up included).
//    Targets (waitstate): >= 95 % of probes answered 200 within 2 s; slow connections closed within
//    the deadlines: heads by header_timeout 30 s (+ 2 s: the supervisor checks every second),
//    bodies by body_min_rate 240 B/s after body_grace_period 5 s (+ 2 s: ~5-6 s expected); none
//    older than that still open at the end. The clients are one 100 ms interval timer (writes the
//    bytes that are due and opens replacements), not a timer per connection. Needs heads + bodies
//    + ~200 open files here (`ulimit -n`, checked: the counts are scaled down with a note if the
//    limit is lower; nothing is raised).
//
// 2. async-io: --async-clients (200) connections, one GET /sleep?ms=200 each (an app that awaits a
//    200 ms timer), all sent at once once every connection is open; the wall time from the first
//    send until all are answered. waitstate threads 4 (app by module reference), waitstate inline
//    (threads 0), node:http; a warm-up round each, then --rounds (3) interleaved rounds (fresh
//    connections each; the server that goes first rotates), medians. Ratio = server / node:http
//    (1.00 = as fast). Target: waitstate threads 4 all answered in <= 1 s.
//
// 3. sse: --sse-clients (100) streams at once, GET /sse (text/event-stream: an event ~50 ms in,
//    then one a second for 5 s, then the end), waitstate threads 2 and node:http. Per client the
//    time from its send to its first event; max, p99, and how many within 1 s (target: all), and
//    how many streams ran to the end with all 6 events.
//
// 4. shutdown: --shutdown-requests (20) keep-alive requests GET /sleep?ms=2000, one per connection;
//    ~200 ms after they were all sent the driver asks the server to close gracefully (stdin "close":
//    waitstate close(); node:http server.close() and its 'close' event). Reported: the time close
//    took (the server's own figure; here: until it printed CLOSED), when the last answer arrived
//    (from the close command), and how many got a complete 200. Target (waitstate): closed in < 5 s
//    with all answered. node:http keeps an idle keep-alive connection until keepAliveTimeout (5 s)
//    after its answer, and its 'close' waits for it.
//
// METHOD. Nothing is pinned (latency, not throughput; the servers' worker threads need both
// cores). Before each measurement the driver waits (<= 5 s) for a quiet second, and records the
// CPU of the server and of other processes ("foreign", % of one core, from /proc/stat minus kernel
// threads, minus the server and this driver) during it: >= 5 % marks the run * (noisy; not re-run).
//
// HOW TO READ IT. Compare waitstate and node:http within one run. A "!" marks a failed probe,
// request or stream; "*" a noisy run. Latencies on this 2-vCPU box vary run to run by tens of ms.
//
// Exit status: 0 when every scenario ran (whatever the figures), 1 on a setup failure or bad
// arguments, 130 on Ctrl-C. Child processes are killed on every exit path; every wait is bounded.

import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FOREIGN_LIMIT, HERE, cpuMeter, fdLimit, memory, parseBenchArgs, runScenarios, spawnServer, waitForQuiet } from './lib.mjs';
import { int, mb, median, pct, quantile, table } from './lib.mjs';

const ALL = ['slowloris', 'async-io', 'sse', 'shutdown'];
const EXTRA = ['slowloris-heads', 'slowloris-bodies'];

// ---------------------------------------------------------------------------------------------
// Arguments

function usage(message) {
  if (message) console.error(`bench: ${message}`);
  console.error(
    `usage: node bench/time.mjs [--only ${[...ALL, ...EXTRA].join(',')}] [--slowloris-seconds S] [--heads N] [--bodies N] ` +
      '[--rounds N] [--async-clients N] [--sse-clients N] [--shutdown-requests N]',
  );
  process.exit(message ? 1 : 0);
}

const opts = parseBenchArgs(process.argv.slice(2), {
  scenarios: [...ALL, ...EXTRA],
  defaults: {
    only: ALL,
    'slowloris-seconds': 75,
    heads: 1000,
    bodies: 200,
    rounds: 3,
    'async-clients': 200,
    'sse-clients': 100,
    'shutdown-requests': 20,
  },
  limits: {
    'slowloris-seconds': [10, 600],
    heads: [1, 20_000],
    bodies: [1, 20_000],
    rounds: [1, 50],
    'async-clients': [1, 5000],
    'sse-clients': [1, 5000],
    'shutdown-requests': [1, 1000],
  },
  usage,
});
const BASE_PORT = Number(process.env.BENCH_PORT ?? 18380);
if (!Number.isInteger(BASE_PORT) || BASE_PORT < 1 || BASE_PORT > 65527) usage('BENCH_PORT must be a port number');
const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------
// Servers

const LABEL = {
  'ws-inline': 'waitstate threads=0',
  'ws-threads4': 'waitstate threads=4',
  'ws-threads2': 'waitstate threads=2',
  node: 'node:http',
};
const isWaitstate = (kind) => kind.startsWith('ws-');

/** Start bench/time-server.mjs KIND PORT; resolves once it listens (and answers GET / 200). */
async function startServer(kind, port) {
  const server = await spawnServer({
    port,
    args: [join(HERE, 'time-server.mjs'), kind, String(port)],
    label: LABEL[kind],
    readyMs: 20_000,
    statsMs: 3000,
    notStarted: `${LABEL[kind]} (${kind}) did not start on port ${port} (see its messages above)`,
  });
  const s = { kind, port, ...server };
  try {
    const [socket] = await openSockets(port, 1, 5000);
    const r = await exchange(socket, '/', { timeoutMs: 5000 });
    socket.destroy();
    if (r.status !== 200) throw new Error(`${LABEL[kind]} answered ${r.status ?? r.error} to GET /`);
  } catch (error) {
    await s.stop();
    throw error;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Client helpers

/** Open n connections (all at once); resolves the sockets, rejects (closing them) if one fails or after ms. */
async function openSockets(port, n, ms) {
  const sockets = [];
  const opening = Array.from(
    { length: n },
    () =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: HOST, port });
        sockets.push(socket);
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      }),
  );
  let timer;
  const deadline = new Promise(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${n} connections not open within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([Promise.all(opening), deadline]);
  } catch (error) {
    for (const s of sockets) s.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One GET on an open socket (node's HTTP client parses the answer). Resolves (never rejects)
 * {status, body, sent, head, firstEvent, end, closed, events, error}: times are performance.now()
 * values; firstEvent = the first body chunk holding "data:"; closed = when the server closed the
 * connection (if it did before the result was taken). Gives up after timeoutMs.
 */
function exchange(socket, path, { timeoutMs, keepAlive = false, onEnd } = {}) {
  return new Promise((resolve) => {
    const r = { sent: performance.now(), body: '', events: 0 };
    socket.once('close', () => (r.closed = performance.now()));
    let done = false;
    const finish = (extra) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      Object.assign(r, extra);
      onEnd?.(r);
      resolve(r);
    };
    const timer = setTimeout(() => {
      req.destroy();
      finish({ error: `no complete answer in ${timeoutMs / 1000} s` });
    }, timeoutMs);
    const req = httpRequest(
      { host: HOST, path, createConnection: () => socket, headers: { connection: keepAlive ? 'keep-alive' : 'close' } },
      (res) => {
        r.status = res.statusCode;
        r.head = performance.now();
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          const events = chunk.split('data:').length - 1;
          if (events > 0 && r.firstEvent === undefined) r.firstEvent = performance.now();
          r.events += events;
          if (r.body.length < 256) r.body += chunk;
        });
        res.on('end', () => finish({ end: performance.now() }));
        res.on('error', (e) => finish({ error: e.code ?? e.message }));
      },
    );
    req.on('error', (e) => finish({ error: e.code ?? e.message }));
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Formatting

const s2 = (ms) => (ms === undefined || !Number.isFinite(ms) ? '-' : (ms / 1000).toFixed(2));
const s1 = (ms) => (ms === undefined || !Number.isFinite(ms) ? '-' : (ms / 1000).toFixed(1));
const ms0 = (ms) => (ms === undefined || !Number.isFinite(ms) ? '-' : ms.toFixed(0));
const ms1 = (ms) => (ms === undefined || !Number.isFinite(ms) ? '-' : ms.toFixed(1));
const foreignCell = (f) => (f === undefined ? '-' : `${f.toFixed(1)}%`) + (f >= FOREIGN_LIMIT ? '*' : '');

function print(title, header, rows, notes = []) {
  console.log('');
  console.log(title);
  console.log('');
  console.log(table(header, rows, /^[\d,.%x*!<>=/ -]+$/));
  if (notes.length > 0) console.log(`notes:\n${notes.map((n) => `  - ${n}`).join('\n')}`);
}

/** Notes on the servers' logger lines (waitstate's; node:http has no logger): {kind, serverStats}[]. */
const loggerNotes = (results) =>
  results
    .filter((r) => isWaitstate(r.kind) && r.serverStats?.logs !== undefined)
    .map((r) => {
      const { error, warn, info } = r.serverStats.logs;
      return `${LABEL[r.kind]} logged ${error} error, ${warn} warn, ${info} info line(s)${error + warn + info > 0 ? ' (the first 10 of each level are above, on stderr)' : ''}`;
    });

/** Measure fn() with the CPU of `server` and foreign CPU: resolves {...fn(), serverCpu, foreign, noisy}. */
async function measured(server, fn) {
  await waitForQuiet([process.pid, server.pid]);
  const cpu = cpuMeter([process.pid, server.pid]);
  const r = await fn();
  const c = cpu();
  return { ...r, serverCpu: c?.pidPct(server.pid), foreign: c?.foreign, noisy: c !== undefined && c.foreign >= FOREIGN_LIMIT };
}

/**
 * Each kind in turn: start its server, measure `run(server)`, print `line(result)` after its
 * label, stop it. Resolves the results, each with its `kind`.
 */
async function perServer(kinds, ports, run, line) {
  const results = [];
  for (const kind of kinds) {
    const server = await startServer(kind, ports[kind]);
    try {
      const r = await measured(server, () => run(server));
      r.kind = kind;
      results.push(r);
      console.error(`  ${LABEL[kind].padEnd(20)} ${line(r)}`);
    } finally {
      await server.stop();
    }
  }
  return results;
}

/** How many exchanges failed, by their error (or status when there was none). */
function countFailures(failed) {
  const errors = {};
  for (const x of failed) {
    const key = x.error ?? `status ${x.status}`;
    errors[key] = (errors[key] ?? 0) + 1;
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// 1. slowloris

const HEAD_START = 'GET / HTTP/1.1\r\nHost: a\r\nX-a: ';
const BODY_HEAD = 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n';
const PROBE = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
const TRICKLE_MS = 2000;
const TICK_MS = 100;
const RAMP_MS = 2000;
const PROBE_EVERY_MS = 500;
const PROBE_OK_MS = 2000;
const HEAD_DEADLINE_S = 30 + 2; // header_timeout + slack (the supervisor checks every second)
const BODY_DEADLINE_S = 5 + 2; // body_grace_period (then 240 B/s fails at once) + slack

/** One probe: a fresh connection, GET / Connection: close; resolves {ok, status, ms, error}. */
function probe(port) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = connect({ host: HOST, port });
    let text = '';
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ at: t0, ...r });
    };
    const timer = setTimeout(() => finish({ ok: false, error: text ? 'partial answer in 2 s' : 'no answer in 2 s' }), PROBE_OK_MS);
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(PROBE));
    socket.on('data', (chunk) => {
      text += chunk;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (m)
        finish({
          ok: m[1] === '200',
          status: Number(m[1]),
          ms: performance.now() - t0,
          error: m[1] === '200' ? undefined : `status ${m[1]}`,
        });
    });
    socket.on('error', (e) => finish({ ok: false, error: e.code ?? e.message }));
    socket.on('close', () => finish({ ok: false, error: 'closed without an answer' }));
  });
}

/**
 * The attack on `port` for `seconds`: `heads` + `bodies` slow connections (kept at that number),
 * probes from the end of the ramp to the end. atEnd() is awaited before the slow connections are
 * closed (to read the server's memory and connections). Resolves the figures.
 */
async function attack(port, { heads, bodies, seconds, atEnd }) {
  const t0 = performance.now();
  const want = { head: heads, body: bodies };
  const pending = { head: heads, body: bodies }; // to open: the ramp, then replacements
  const opened = { head: 0, body: 0 };
  const closeMs = { head: [], body: [] }; // first byte -> the server's close, per closed connection
  const answered408 = { head: 0, body: 0 };
  const otherAnswer = { head: 0, body: 0 };
  const resets = { head: 0, body: 0 };
  const connectFailed = { head: 0, body: 0 };
  const conns = new Set();
  let running = true;
  const perTick = Math.max(50, Math.ceil((heads + bodies) / (RAMP_MS / TICK_MS)));

  function open(kind) {
    opened[kind]++;
    const c = { kind, socket: connect({ host: HOST, port }), first: undefined, due: Infinity, answer: '', error: undefined, done: false };
    conns.add(c);
    c.socket.setEncoding('latin1');
    c.socket.on('connect', () => {
      c.socket.write(kind === 'head' ? HEAD_START : BODY_HEAD);
      c.first = performance.now();
      c.due = c.first + TRICKLE_MS;
    });
    c.socket.on('data', (chunk) => {
      if (c.answer.length < 64) c.answer += chunk;
    });
    const gone = () => {
      if (c.done) return;
      c.done = true;
      conns.delete(c);
      if (!running) return; // we are closing them
      c.socket.destroy();
      if (c.first === undefined) connectFailed[kind]++;
      else {
        closeMs[kind].push(performance.now() - c.first);
        if (/^HTTP\/1\.[01] 408/.test(c.answer)) answered408[kind]++;
        else if (c.answer !== '') otherAnswer[kind]++;
        else if (c.error !== undefined) resets[kind]++;
      }
      pending[kind]++; // keep the pressure: the next tick opens another
    };
    c.socket.on('end', gone);
    c.socket.on('close', gone);
    c.socket.on('error', (e) => {
      c.error = e.code ?? e.message;
      gone();
    });
  }

  const ticker = setInterval(() => {
    const now = performance.now();
    const waiting = pending.head + pending.body;
    if (waiting > 0) {
      const budget = Math.min(perTick, waiting);
      const h = Math.min(pending.head, Math.round((budget * pending.head) / waiting));
      const b = Math.min(pending.body, budget - h);
      for (let i = 0; i < h; i++) open('head');
      for (let i = 0; i < b; i++) open('body');
      pending.head -= h;
      pending.body -= b;
    }
    for (const c of conns) {
      if (c.due > now) continue;
      c.socket.write('a');
      c.due = Math.max(c.due + TRICKLE_MS, now + TRICKLE_MS / 2);
    }
  }, TICK_MS);

  const probes = [];
  let prober;
  try {
    await sleep(RAMP_MS + TICK_MS);
    const end = t0 + seconds * 1000;
    probes.push(probe(port));
    prober = setInterval(() => probes.push(probe(port)), PROBE_EVERY_MS);
    await sleep(Math.max(0, end - performance.now()));
    clearInterval(prober);
    const results = await Promise.all(probes); // each settles within 2 s
    const now = performance.now();
    const still = { head: [], body: [] };
    for (const c of conns) if (c.first !== undefined) still[c.kind].push(now - c.first);
    const extra = await atEnd();
    const ok = results.filter((p) => p.ok);
    const latencies = ok.map((p) => p.ms).sort((a, b) => a - b);
    const failures = {};
    for (const p of results.filter((x) => !x.ok)) failures[p.error] = (failures[p.error] ?? 0) + 1;
    const side = (kind, deadlineS) => {
      const sorted = [...closeMs[kind]].sort((a, b) => a - b);
      return {
        wanted: want[kind],
        opened: opened[kind],
        closedByServer: sorted.length,
        answered408: answered408[kind],
        otherAnswer: otherAnswer[kind],
        resets: resets[kind],
        connectFailed: connectFailed[kind],
        closeSeconds: sorted.length > 0 ? { min: sorted[0] / 1000, median: median(sorted) / 1000, max: sorted.at(-1) / 1000 } : {},
        openAtEnd: still[kind].length,
        oldestOpenSeconds: still[kind].length > 0 ? Math.max(...still[kind]) / 1000 : undefined,
        overdue: still[kind].filter((ms) => ms / 1000 > deadlineS).length + sorted.filter((ms) => ms / 1000 > deadlineS).length,
        deadlineSeconds: deadlineS,
      };
    };
    return {
      seconds: (now - t0) / 1000,
      probes: {
        sent: results.length,
        ok: ok.length,
        okPct: results.length > 0 ? (100 * ok.length) / results.length : undefined,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies.at(-1),
        failures,
      },
      heads: side('head', HEAD_DEADLINE_S),
      bodies: side('body', BODY_DEADLINE_S),
      ...extra,
    };
  } finally {
    clearInterval(prober);
    clearInterval(ticker);
    running = false;
    for (const c of conns) c.socket.destroy();
    await Promise.all(probes); // bounded: 2 s each
  }
}

async function slowlorisScenario(variant) {
  const notes = [];
  let heads = variant === 'slowloris-bodies' ? 0 : opts.heads;
  let bodies = variant === 'slowloris-heads' ? 0 : opts.bodies;
  const limit = fdLimit();
  if (limit !== undefined && limit < heads + bodies + 200) {
    const scale = Math.max(0, limit - 200) / (heads + bodies);
    notes.push(
      `this process may open only ${limit} files (ulimit -n): ${Math.floor(heads * scale)} heads and ${Math.floor(bodies * scale)} bodies instead of ${heads} and ${bodies}.`,
    );
    heads = Math.floor(heads * scale);
    bodies = Math.floor(bodies * scale);
  }
  const seconds = opts['slowloris-seconds'];
  const kinds = ['ws-inline', 'node'];
  const ports = { 'ws-inline': BASE_PORT, node: BASE_PORT + 1 };
  console.error(
    `bench ${variant}: ${heads} slow heads + ${bodies} slow bodies (1 byte / 2 s each, replaced when closed), a probe every 0.5 s, ${seconds} s per server; fd limit ${limit ?? '?'}; not pinned`,
  );
  const results = await perServer(
    kinds,
    ports,
    (server) =>
      attack(server.port, {
        heads,
        bodies,
        seconds,
        atEnd: async () => ({ memory: memory(server.pid), serverStats: await server.stats() }),
      }),
    (r) =>
      `probes ${r.probes.ok}/${r.probes.sent} ok, p99 ${ms1(r.probes.p99)} ms; heads closed ${r.heads.closedByServer} ` +
      `(median ${s1(r.heads.closeSeconds.median * 1000)} s), bodies closed ${r.bodies.closedByServer} ` +
      `(median ${s1(r.bodies.closeSeconds.median * 1000)} s); VmHWM ${mb(r.memory?.hwm)} MB`,
  );
  const verdict = (r) => {
    const probesOk = r.probes.okPct >= 95;
    const headsOk = heads === 0 || (r.heads.overdue === 0 && (seconds < HEAD_DEADLINE_S + 5 || r.heads.closedByServer > 0));
    const bodiesOk = bodies === 0 || (r.bodies.overdue === 0 && r.bodies.closedByServer > 0);
    return { probesOk, headsOk, bodiesOk, meets: probesOk && headsOk && bodiesOk };
  };
  for (const r of results) r.target = verdict(r);
  const rows = results.map((r) => [
    LABEL[r.kind],
    int(r.probes.sent),
    pct(r.probes.okPct) + (r.probes.ok < r.probes.sent ? '!' : ''),
    ms1(r.probes.p50),
    ms1(r.probes.p99),
    ms1(r.probes.max),
    heads === 0 ? '-' : int(r.heads.closedByServer),
    s1(r.heads.closeSeconds.median * 1000),
    s1(r.heads.closeSeconds.max * 1000),
    bodies === 0 ? '-' : int(r.bodies.closedByServer),
    s1(r.bodies.closeSeconds.median * 1000),
    s1(r.bodies.closeSeconds.max * 1000),
    `${int(r.heads.openAtEnd)}/${int(r.bodies.openAtEnd)}`,
    `${s1((r.heads.oldestOpenSeconds ?? NaN) * 1000)}/${s1((r.bodies.oldestOpenSeconds ?? NaN) * 1000)}`,
    mb(r.memory?.hwm),
    pct(r.serverCpu),
    foreignCell(r.foreign),
    r.target.meets ? 'yes' : 'NO',
  ]);
  for (const r of results) {
    const failed = Object.entries(r.probes.failures);
    if (failed.length > 0) notes.push(`${LABEL[r.kind]}: failed probes: ${failed.map(([k, n]) => `${n} x ${k}`).join(', ')}`);
    for (const [name, side] of [
      ['heads', r.heads],
      ['bodies', r.bodies],
    ]) {
      if (side.wanted === 0) continue;
      notes.push(
        `${LABEL[r.kind]} ${name}: opened ${side.opened} (incl. replacements); of ${side.closedByServer} closed by the server ${side.answered408} got a 408 first` +
          (side.otherAnswer ? `, ${side.otherAnswer} another answer` : '') +
          (side.resets ? `, ${side.resets} a reset` : '') +
          (side.connectFailed ? `; ${side.connectFailed} connects failed` : '') +
          (side.closedByServer > 0 ? `; first byte -> close min ${side.closeSeconds.min.toFixed(1)} s` : '') +
          (side.overdue > 0 ? `; ${side.overdue} past ${side.deadlineSeconds} s (open or closed late)` : ''),
      );
    }
    if (r.serverStats) notes.push(`${LABEL[r.kind]}: ${r.serverStats.connections} connections open at the server at the end`);
    notes.push(...loggerNotes([r]));
    if (r.noisy) notes.push(`${LABEL[r.kind]}: other processes used ${pct(r.foreign)} of a core during the run (*)`);
  }
  notes.push(
    'node:http checks headersTimeout (60 s) and requestTimeout (300 s) every connectionsCheckingInterval (30 s) from its listen, so it closes a slow head 60-90 s after it began, a slow body 300-330 s after its head.',
  );
  const w = results.find((r) => r.kind === 'ws-inline');
  print(
    `1. ${variant}: ${heads} slow heads + ${bodies} slow bodies (1 byte / 2 s, replaced when the server closes one) + a probe every 0.5 s (fresh connection, GET /), ${seconds} s per server; not pinned\n` +
      `   target (waitstate, default options): >= 95 % of probes answered 200 within 2 s; heads closed by ${HEAD_DEADLINE_S} s (header_timeout 30 s + 2), bodies by ${BODY_DEADLINE_S} s ` +
      `(240 B/s after 5 s grace + 2), none older still open: ${w?.target.meets ? 'meets target' : 'BELOW TARGET'}\n` +
      `   close s = connection's first byte -> the server's close; open at end / oldest s = heads/bodies still open when the run ended; RSS = VmHWM (peak resident set, start-up included)`,
    [
      'server',
      'probes',
      'ok <= 2 s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'heads closed',
      'head med s',
      'head max s',
      'bodies closed',
      'body med s',
      'body max s',
      'open at end',
      'oldest s',
      'RSS peak MB',
      'srv CPU',
      'foreign',
      'target',
    ],
    rows,
    notes,
  );
  return {
    heads,
    bodies,
    seconds,
    fdLimit: limit,
    targets: { probeOkPct: 95, headDeadlineSeconds: HEAD_DEADLINE_S, bodyDeadlineSeconds: BODY_DEADLINE_S },
    meetsTarget: w?.target.meets,
    results,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. async-io

/** One round: n fresh connections, then n GET /sleep?ms=200 at once; resolves the figures. */
async function asyncRound(port, n) {
  const sockets = await openSockets(port, n, 15_000);
  try {
    const t0 = performance.now();
    const rs = await Promise.all(sockets.map((s) => exchange(s, '/sleep?ms=200', { timeoutMs: 15_000 })));
    const ok = rs.filter((r) => r.status === 200 && r.body === 'slept 200' && r.end !== undefined);
    const ends = ok.map((r) => r.end - t0).sort((a, b) => a - b);
    const errors = countFailures(rs.filter((x) => !ok.includes(x)));
    return { n, ok: ok.length, allMs: ok.length === n ? ends.at(-1) : undefined, firstMs: ends[0], p50Ms: quantile(ends, 0.5), errors };
  } finally {
    for (const s of sockets) s.destroy();
  }
}

async function asyncScenario() {
  const n = opts['async-clients'];
  const kinds = ['ws-threads4', 'ws-inline', 'node'];
  const ports = { 'ws-threads4': BASE_PORT + 2, 'ws-inline': BASE_PORT + 3, node: BASE_PORT + 4 };
  console.error(
    `bench async-io: ${n} connections, one GET /sleep?ms=200 each, all at once; a warm-up round, then ${opts.rounds} rounds; not pinned`,
  );
  const servers = {};
  const serverStats = {};
  const runs = [];
  try {
    for (const kind of kinds) servers[kind] = await startServer(kind, ports[kind]);
    for (const kind of kinds) await asyncRound(servers[kind].port, n);
    for (let round = 1; round <= opts.rounds; round++) {
      const order = kinds.map((_, i) => kinds[(i + round - 1) % kinds.length]);
      for (const kind of order) {
        const r = await measured(servers[kind], () => asyncRound(servers[kind].port, n));
        Object.assign(r, { round, kind });
        runs.push(r);
        console.error(
          `  round ${round} ${LABEL[kind].padEnd(20)} ${r.ok}/${n} answered, all in ${s2(r.allMs)} s (first ${ms0(r.firstMs)} ms); srv CPU ${pct(r.serverCpu)}, foreign ${pct(r.foreign)}`,
        );
      }
    }
    for (const kind of kinds) serverStats[kind] = await servers[kind].stats();
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
  const med = Object.fromEntries(kinds.map((k) => [k, median(runs.filter((r) => r.kind === k).map((r) => r.allMs ?? Infinity))]));
  const ratio = (k) => med[k] / med.node;
  const rows = runs.map((r) => [
    String(r.round),
    LABEL[r.kind],
    s2(r.allMs) + (r.ok < r.n ? '!' : ''),
    ms0(r.firstMs),
    ms0(r.p50Ms),
    `${r.ok}/${r.n}`,
    pct(r.serverCpu),
    foreignCell(r.foreign),
    '',
  ]);
  for (const k of kinds) rows.push(['median', LABEL[k], s2(med[k]), '', '', '', '', '', `${ratio(k).toFixed(2)}x`]);
  const target = med['ws-threads4'] <= 1000;
  const notes = [];
  for (const r of runs.filter((x) => x.ok < x.n))
    notes.push(`round ${r.round} ${LABEL[r.kind]}: ${r.n - r.ok} not answered: ${JSON.stringify(r.errors)}`);
  for (const r of runs.filter((x) => x.noisy))
    notes.push(`round ${r.round} ${LABEL[r.kind]}: other processes used ${pct(r.foreign)} of a core (*)`);
  notes.push(...loggerNotes(kinds.map((kind) => ({ kind, serverStats: serverStats[kind] }))));
  print(
    `2. async-io: ${n} connections, one GET each to an app awaiting a 200 ms timer, all sent at once; wall time until all answered; ${opts.rounds} rounds (fresh connections), medians; not pinned\n` +
      `   target: waitstate threads=4 all answered in <= 1 s: ${target ? 'meets target' : 'BELOW TARGET'} (${s2(med['ws-threads4'])} s); ` +
      `vs node:http: threads=4 ${ratio('ws-threads4').toFixed(2)}x, threads=0 ${ratio('ws-inline').toFixed(2)}x (1.00x = as fast, lower is better)`,
    ['round', 'server', 'all done s', 'first ms', 'p50 ms', 'answered', 'srv CPU', 'foreign', 'vs node'],
    rows,
    notes,
  );
  return {
    clients: n,
    sleepMs: 200,
    medianSeconds: Object.fromEntries(kinds.map((k) => [k, med[k] / 1000])),
    ratioVsNode: Object.fromEntries(kinds.map((k) => [k, ratio(k)])),
    targetSeconds: 1,
    meetsTarget: target,
    serverStats,
    runs: runs.map(({ round, kind, n: clients, ok, allMs, firstMs, p50Ms, errors, serverCpu, foreign, noisy }) => ({
      round,
      kind,
      clients,
      ok,
      allMs,
      firstMs,
      p50Ms,
      errors,
      serverCpu,
      foreign,
      noisy,
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// 3. sse

async function sseScenario() {
  const n = opts['sse-clients'];
  const kinds = ['ws-threads2', 'node'];
  const ports = { 'ws-threads2': BASE_PORT + 5, node: BASE_PORT + 6 };
  console.error(`bench sse: ${n} streams at once (GET /sse: an event at ~50 ms, then one a second for 5 s); not pinned`);
  const results = await perServer(
    kinds,
    ports,
    async (server) => {
      const sockets = await openSockets(server.port, n, 15_000);
      try {
        const rs = await Promise.all(sockets.map((s) => exchange(s, '/sse', { timeoutMs: 15_000 })));
        const first = rs.filter((x) => x.firstEvent !== undefined).map((x) => x.firstEvent - x.sent);
        const sorted = [...first].sort((a, b) => a - b);
        const complete = rs.filter((x) => x.status === 200 && x.end !== undefined && x.events === 6).length;
        const errors = countFailures(rs.filter((y) => y.error !== undefined || y.status !== 200));
        return {
          clients: n,
          gotFirst: first.length,
          within1s: first.filter((ms) => ms <= 1000).length,
          p50: quantile(sorted, 0.5),
          p99: quantile(sorted, 0.99),
          max: sorted.at(-1),
          complete,
          serverStats: await server.stats(),
          lastEndSeconds:
            Math.max(...rs.map((x) => x.end ?? NaN).filter(Number.isFinite)) / 1000 - Math.min(...rs.map((x) => x.sent)) / 1000,
          errors,
        };
      } finally {
        for (const s of sockets) s.destroy();
      }
    },
    (r) => `first event: ${r.within1s}/${n} within 1 s, p99 ${ms0(r.p99)} ms, max ${ms0(r.max)} ms; ${r.complete}/${n} complete`,
  );
  const rows = results.map((r) => [
    LABEL[r.kind],
    String(r.clients),
    ms0(r.p50),
    ms0(r.p99),
    ms0(r.max),
    `${r.within1s}/${r.clients}` + (r.within1s < r.clients ? '!' : ''),
    `${r.complete}/${r.clients}` + (r.complete < r.clients ? '!' : ''),
    pct(r.serverCpu),
    foreignCell(r.foreign),
  ]);
  const w = results.find((r) => r.kind === 'ws-threads2');
  const target = w !== undefined && w.within1s === w.clients;
  const notes = [];
  for (const r of results) if (Object.keys(r.errors).length > 0) notes.push(`${LABEL[r.kind]}: errors ${JSON.stringify(r.errors)}`);
  notes.push(...loggerNotes(results));
  for (const r of results.filter((x) => x.noisy)) notes.push(`${LABEL[r.kind]}: other processes used ${pct(r.foreign)} of a core (*)`);
  print(
    `3. sse: ${n} concurrent text/event-stream responses (first event at ~50 ms, then 1/s for 5 s); time from a client's send to its first event; not pinned\n` +
      `   target: waitstate threads=2 all ${n} first events within 1 s: ${target ? 'meets target' : 'BELOW TARGET'}; complete = the stream ended with all 6 events`,
    ['server', 'streams', 'p50 ms', 'p99 ms', 'max ms', 'within 1 s', 'complete', 'srv CPU', 'foreign'],
    rows,
    notes,
  );
  return { clients: n, targetMs: 1000, meetsTarget: target, results };
}

// ---------------------------------------------------------------------------------------------
// 4. shutdown

async function shutdownScenario() {
  const n = opts['shutdown-requests'];
  const kinds = ['ws-threads2', 'node'];
  const ports = { 'ws-threads2': BASE_PORT + 7, node: BASE_PORT + 8 };
  const CLOSE_WAIT_MS = 45_000; // waitstate's shutdownTimeout (30 s) + slack
  console.error(`bench shutdown: ${n} keep-alive GET /sleep?ms=2000, graceful close ~200 ms after; not pinned`);
  const results = await perServer(
    kinds,
    ports,
    async (server) => {
      const sockets = await openSockets(server.port, n, 15_000);
      try {
        const answers = Promise.all(sockets.map((s) => exchange(s, '/sleep?ms=2000', { timeoutMs: CLOSE_WAIT_MS, keepAlive: true })));
        const sent = performance.now();
        await sleep(200);
        const command = performance.now();
        const closed = await server.close(CLOSE_WAIT_MS);
        const rs = await answers; // bounded by their timeout
        // The server closed them all (if it closed); give their FINs a moment to reach us.
        for (let i = 0; i < 20 && rs.some((x) => x.closed === undefined); i++) await sleep(50);
        const ok = rs.filter((x) => x.status === 200 && x.end !== undefined && x.body === 'slept 2000');
        const lastAnswer = ok.length > 0 ? Math.max(...ok.map((x) => x.end)) - command : undefined;
        const connsClosed = rs.filter((x) => x.closed !== undefined);
        const lastConnClosed = connsClosed.length > 0 ? Math.max(...connsClosed.map((x) => x.closed)) - command : undefined;
        const errors = countFailures(rs.filter((y) => !ok.includes(y)));
        return {
          requests: n,
          commandAfterMs: command - sent,
          closeMs: closed?.ms,
          closeSeenSeconds: closed?.seconds,
          closedInTime: closed !== undefined,
          answered: ok.length,
          lastAnswerMs: lastAnswer,
          connsClosedByServer: connsClosed.length,
          lastConnClosedMs: lastConnClosed,
          serverStats: await server.stats(),
          errors,
        };
      } finally {
        for (const s of sockets) s.destroy();
      }
    },
    (r) => `close took ${s2(r.closeMs)} s; ${r.answered}/${n} answered 200, the last ${s2(r.lastAnswerMs)} s after the close command`,
  );
  const rows = results.map((r) => [
    LABEL[r.kind],
    String(r.requests),
    s2(r.closeMs) + (r.closedInTime ? '' : '!'),
    s2(r.lastAnswerMs),
    `${r.answered}/${r.requests}` + (r.answered < r.requests ? '!' : ''),
    `${r.connsClosedByServer}/${r.requests}`,
    s2(r.lastConnClosedMs),
    pct(r.serverCpu),
    foreignCell(r.foreign),
  ]);
  const w = results.find((r) => r.kind === 'ws-threads2');
  const target = w !== undefined && w.closedInTime && w.closeMs < 5000 && w.answered === w.requests;
  const notes = [];
  for (const r of results) if (Object.keys(r.errors).length > 0) notes.push(`${LABEL[r.kind]}: not answered: ${JSON.stringify(r.errors)}`);
  notes.push(...loggerNotes(results));
  for (const r of results.filter((x) => !x.closedInTime)) notes.push(`${LABEL[r.kind]}: no CLOSED within ${CLOSE_WAIT_MS / 1000} s`);
  for (const r of results.filter((x) => x.noisy)) notes.push(`${LABEL[r.kind]}: other processes used ${pct(r.foreign)} of a core (*)`);
  notes.push(
    'node:http: server.close() closes idle connections at once, but a keep-alive connection whose answer was still running stays open until keepAliveTimeout (5 s) after it, and the close event waits for it.',
  );
  print(
    `4. shutdown: ${n} keep-alive requests awaiting 2 s each; ~200 ms after they were sent a graceful close (waitstate close(); node:http server.close() until its 'close' event); not pinned\n` +
      `   target: waitstate threads=2 closed in < 5 s with all ${n} answered: ${target ? 'meets target' : 'BELOW TARGET'}\n` +
      `   close s = the server's close() time from the command; last answer s = from the command to the last complete 200; conns closed = by the server; last closed s = from the command to the last one`,
    ['server', 'requests', 'close s', 'last answer s', 'answered 200', 'conns closed', 'last closed s', 'srv CPU', 'foreign'],
    rows,
    notes,
  );
  return { requests: n, sleepMs: 2000, targetSeconds: 5, meetsTarget: target, results };
}

// ---------------------------------------------------------------------------------------------

const json = { node: process.version, cores: availableParallelism(), pinned: false, fdLimit: fdLimit(), scenarios: {} };
const SCENARIOS = {
  slowloris: () => slowlorisScenario('slowloris'),
  'slowloris-heads': () => slowlorisScenario('slowloris-heads'),
  'slowloris-bodies': () => slowlorisScenario('slowloris-bodies'),
  'async-io': asyncScenario,
  sse: sseScenario,
  shutdown: shutdownScenario,
};
await runScenarios(json, SCENARIOS, [...ALL.slice(0, 1), ...EXTRA, ...ALL.slice(1)], opts.only);
