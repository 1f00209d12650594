#!/usr/bin/env node
// bench/websocket.mjs: waitstate's upgradeWebSocket() beside ws on node:http, WebSocket echo,
// messages per second and the ratio to ws on node:http measured in the same run.
//
//   npm run bench:websocket             (= npm run build && node bench/websocket.mjs)
//   node bench/websocket.mjs [--rounds N] [--seconds S] [--connections C] [--budget S] [--only a,b]
//   BENCH_PORT=19000 node bench/websocket.mjs   (ports BENCH_PORT .. BENCH_PORT+3; default 18480)
//
// SERVERS, each in its own process (bench/websocket-server.mjs) echoing every message:
//   ws-node            ws's WebSocketServer on node:http, `new WebSocketServer({ server })`
//   waitstate          waitstate inline (threads 0), upgradeWebSocket() (bench/websocket-app.mjs)
//   waitstate-threads  waitstate, 2 worker threads: the connection and ws on the main thread, the
//                      app's socket in a worker, every message crossing a MessagePort each way
//   waitstate-hono     waitstate inline, a Hono app with waitstate/hono's upgradeWebSocket
// waitstate frames with ws too: the difference is what waitstate adds over it (the app's socket,
// its events, idleTimeout's timer; strings decoded for the app and encoded again).
//
// LOAD (bench/websocket-load.mjs, ws's client, one Node process): C sockets (default 50), each
// keeping DEPTH messages in flight, for S seconds once all are open; every echo is checked
// against what was sent (kind, bytes, order), and what does not match, errors, sockets the
// server closed and echoes that never came (2 s after the window) are counted and flag the run:
//   ping-pong    32-byte text messages, 1 in flight per socket
//   pipelined    32-byte text messages, 16 in flight per socket
//   binary-4k    4 KiB binary messages, 16 in flight per socket
//
// METHOD, as bench/peers.mjs: every server pinned to core 0, the load client and this driver to
// core 1. Each server is checked first (a text and a binary message echoed, a clean close), warmed
// up for 1 s per scenario, then rounds run round -> scenario -> server, the order of servers
// reversed every other round; the table shows medians. Server CPU is read from /proc between the
// client's WINDOW lines: µs/msg = the server's CPU per message echoed (one received, one sent).
// With worker threads the threads share the server's core: the figure is what a message costs,
// not how the work spreads over cores.
//
// TIME. Bounded: rounds x scenarios x servers x (seconds + ~0.5 s to open and close the sockets),
// plus 1 s per server per scenario of warm-up; the defaults (2 rounds x 3 s, 4 servers) take
// about 100 s. A run during which other processes used >= 5 % of a core is re-run once if the runs
// left still end within --budget seconds (default 120); else it is kept and marked *.
//
// HOW TO READ IT. Compare ratios ("x ws"), not absolute messages/s: this machine drifts +-15 %
// between runs. When the client's core is saturated (noted), the figure is a lower bound for
// that server and the ratios close up; the CPU per message still compares the servers. The last
// line, BENCH_JSON {...}, holds everything; the lines before it a Markdown table.

import { join } from 'node:path';
import WebSocket from 'ws';
import { FOREIGN_LIMIT, HERE, LOAD_CORE, PINNED, ROOT, SERVER_CORE, clientBound, packageVersion } from './lib.mjs';
import { pinSelf, pinned, rerunIfNoisy, sampledRun, spawnServer } from './lib.mjs';
import { int, median, parseBenchArgs, pct, runBench, table } from './lib.mjs';

const SERVERS = ['ws-node', 'waitstate', 'waitstate-threads', 'waitstate-hono'];
const LABEL = {
  'ws-node': 'ws on node:http',
  waitstate: 'waitstate',
  'waitstate-threads': 'waitstate, 2 threads',
  'waitstate-hono': 'waitstate + Hono',
};
const BASELINE = 'ws-node';
const SCENARIOS = [
  { name: 'ping-pong', depth: 1, size: 32, kind: 'text' },
  { name: 'pipelined', depth: 16, size: 32, kind: 'text' },
  { name: 'binary-4k', depth: 16, size: 4096, kind: 'binary' },
];
const WARMUP_SECONDS = 1;
const RUN_OVERHEAD_SECONDS = 0.5; // the client's start, its sockets opened and closed
const STALL_SHARE = 0.25; // a 250 ms slice below this share of the run's rate is a stall

function usage(message) {
  if (message) console.error(`bench: ${message}`);
  console.error(`usage: node bench/websocket.mjs [--rounds N] [--seconds S] [--connections C] [--budget S] [--only ${SERVERS.join(',')}]`);
  process.exit(message ? 1 : 0);
}

const opts = parseBenchArgs(process.argv.slice(2), {
  scenarios: SERVERS,
  defaults: { rounds: 2, seconds: 3, connections: 50, budget: 120, only: SERVERS },
  limits: { rounds: [1, 20], seconds: [1, 60], connections: [1, 1000], budget: [10, 3600] },
  usage,
  what: 'server',
});
if (!opts.only.includes(BASELINE)) usage(`--only must include ${BASELINE}: the ratios are to it`);
const BASE_PORT = Number(process.env.BENCH_PORT ?? 18480);
if (!Number.isInteger(BASE_PORT) || BASE_PORT < 1 || BASE_PORT + SERVERS.length > 65535) usage('BENCH_PORT must be a port number');

pinSelf(LOAD_CORE);

async function start(kind, port) {
  const server = await spawnServer({
    port,
    args: [join(HERE, 'websocket-server.mjs'), kind, String(port)],
    label: LABEL[kind],
    cores: SERVER_CORE,
    readyMs: 15_000,
    statsMs: 2000,
    notStarted: `${LABEL[kind]} did not start on port ${port} (see its messages above)`,
  });
  return { ...server, kind, port, url: `ws://127.0.0.1:${port}/` };
}

/** A text and a binary message must come back as sent, and the socket close cleanly (5 s at most). */
function verify(server) {
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => i & 0xff));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url, { perMessageDeflate: false });
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(`${LABEL[server.kind]}: ${why}`));
    };
    const timer = setTimeout(() => fail('no echo within 5 s'), 5000);
    const echoes = [];
    ws.on('open', () => {
      ws.send('hello');
      ws.send(binary);
    });
    ws.on('message', (data, isBinary) => {
      echoes.push(isBinary ? data : data.toString());
      if (echoes.length < 2) return;
      if (echoes[0] !== 'hello') return fail(`echoed ${JSON.stringify(echoes[0])} for the text "hello"`);
      if (!Buffer.isBuffer(echoes[1]) || !echoes[1].equals(binary)) return fail('the 4 KiB binary message came back otherwise');
      ws.close(1000);
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      if (echoes.length < 2 || code !== 1000) return fail(`closed with ${code} after ${echoes.length} echo(es)`);
      if (settled) return;
      settled = true;
      console.error(`  ${LABEL[server.kind].padEnd(20)} ok: text and binary echoed, closed 1000`);
      resolve();
    });
    ws.on('error', (error) => fail(error.message));
  });
}

/** One load-client run against `server`: {mps, messages, ..., serverCpu, loadCpu, foreign, usPerMessage, flagged}. */
async function loadOnce(scenario, server, seconds, ours) {
  const script = join(HERE, 'websocket-load.mjs');
  const args = [
    script,
    server.url,
    String(opts.connections),
    String(scenario.depth),
    String(scenario.size),
    scenario.kind,
    String(seconds),
  ];
  const [cmd, argv] = pinned(LOAD_CORE, process.execPath, args);
  const before = await server.stats();
  const { code, out, pid, cpu } = await sampledRun(cmd, argv, {
    name: 'the load client',
    seconds,
    pidsWith: (p) => [...ours, p],
    cwd: ROOT,
  });
  const after = await server.stats();
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined || code !== 0) throw new Error(`the load client failed (exit ${code}) vs ${LABEL[server.kind]}:\n${out.trim()}`);
  const r = JSON.parse(line.slice(7));
  const mps = r.messages / r.seconds;
  const served = after?.messages !== undefined && before?.messages !== undefined ? after.messages - before.messages : undefined;
  const logs = {};
  if (before?.logs && after?.logs) for (const level of ['error', 'warn', 'info']) logs[level] = after.logs[level] - before.logs[level];
  const [loadCpu, serverCpu, foreign] = cpu === undefined ? [] : [cpu.pidPct(pid), cpu.pidPct(server.pid), cpu.foreign];
  return {
    ...r,
    mps,
    served,
    serverLogs: logs,
    loadCpu,
    serverCpu,
    foreign,
    usPerMessage: serverCpu !== undefined ? (serverCpu / 100 / mps) * 1e6 : undefined,
    stalled: r.slowestSlice !== undefined && r.slowestSlice < STALL_SHARE * mps,
    flagged: r.mismatches + r.errors + r.lost + r.closedEarly > 0 || (served !== undefined && served !== r.total),
  };
}

async function main() {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const kinds = SERVERS.filter((kind) => opts.only.includes(kind));
  const versions = { node: process.version, ws: packageVersion('ws'), hono: packageVersion('hono') };
  const perRun = opts.seconds + RUN_OVERHEAD_SECONDS;
  console.error(
    `bench: WebSocket echo, Node ${process.version}, ws ${versions.ws}, ${kinds.length} servers, ${opts.rounds} round(s) x ${opts.seconds} s ` +
      `per server per scenario, ${opts.connections} sockets; about ` +
      `${Math.round(kinds.length * SCENARIOS.length * (opts.rounds * perRun + WARMUP_SECONDS + RUN_OVERHEAD_SECONDS))} s`,
  );
  console.error(PINNED ? `bench: servers on core ${SERVER_CORE}, load and driver on core ${LOAD_CORE}` : 'bench: not pinned');

  const servers = {};
  for (const [i, kind] of kinds.entries()) servers[kind] = await start(kind, BASE_PORT + i);
  const ours = new Set([process.pid, ...Object.values(servers).map((s) => s.pid)]);
  for (const kind of kinds) await verify(servers[kind]);
  for (const kind of kinds) for (const scenario of SCENARIOS) await loadOnce(scenario, servers[kind], WARMUP_SECONDS, ours);

  const runs = [];
  let runsLeft = opts.rounds * SCENARIOS.length * kinds.length;
  // A noisy run is re-run only if that still lets the remaining runs end within the budget.
  const mayRerun = () => elapsed() + (runsLeft + 1) * perRun <= opts.budget;
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 ? kinds : [...kinds].reverse();
    for (const scenario of SCENARIOS) {
      for (const kind of order) {
        runsLeft--;
        const once = () => loadOnce(scenario, servers[kind], opts.seconds, ours);
        const run = await rerunIfNoisy(once, ours, { quietMs: 0, rerun: mayRerun() });
        Object.assign(run, { round, scenario: scenario.name, server: kind });
        runs.push(run);
        console.error(
          `  round ${round}  ${scenario.name.padEnd(9)} ${LABEL[kind].padEnd(20)} ${int(run.mps).padStart(9)} msg/s  ` +
            `srv CPU ${pct(run.serverCpu)}, load CPU ${pct(run.loadCpu)}, foreign ${pct(run.foreign)}` +
            (run.flagged ? `  ! mismatches ${run.mismatches}, errors ${run.errors}, lost ${run.lost}` : ''),
        );
      }
    }
  }
  for (const kind of kinds) await servers[kind].stop();
  report(kinds, runs, versions, elapsed());
}

function summarize(kinds, runs) {
  const of = (kind, scenario) => runs.filter((r) => r.server === kind && r.scenario === scenario);
  const us = (kind, name) => median(of(kind, name).flatMap((r) => (r.usPerMessage === undefined ? [] : [r.usPerMessage])));
  const summary = {};
  for (const kind of kinds) {
    summary[kind] = {};
    for (const { name } of SCENARIOS) {
      const mps = median(of(kind, name).map((r) => r.mps));
      summary[kind][name] = {
        median: mps,
        ratio: mps / median(of(BASELINE, name).map((r) => r.mps)),
        usPerMessage: us(kind, name),
        // The server's CPU per message against ws on node:http's: steadier than the ratio when the client is the limit.
        cpuRatio: us(kind, name) / us(BASELINE, name),
        rounds: of(kind, name).map((r) => r.mps),
      };
    }
  }
  return summary;
}

function notesOn(runs, seconds) {
  const notes = [];
  const where = (r) => `round ${r.round} ${r.scenario} ${LABEL[r.server]}`;
  for (const scenario of SCENARIOS) {
    const bound = runs.filter((r) => r.scenario === scenario.name).map((r) => clientBound(r, 'the client', LABEL[r.server]));
    for (const note of new Set(bound.filter((n) => n !== undefined)))
      notes.push(`${scenario.name}: client-bound: ${note}; that figure is a lower bound.`);
  }
  for (const r of runs.filter((r) => r.flagged)) {
    notes.push(
      `${where(r)}: ${r.mismatches} mismatched echoes, ${r.errors} errors ${JSON.stringify(r.errorSamples)}, ${r.lost} lost, ` +
        `${r.closedEarly} sockets closed by the server, echoes: client ${r.total}, server ${r.served ?? '-'}`,
    );
  }
  for (const r of runs.filter((r) => r.stalled)) {
    notes.push(`${where(r)}: a 250 ms slice ran at ${int(r.slowestSlice)} msg/s against ${int(r.mps)} over the run (a stall?)`);
  }
  for (const r of runs.filter((r) => r.noisy))
    notes.push(`${where(r)}: other processes used ${pct(r.foreign)} of a core during the run (*)`);
  const logged = {};
  for (const r of runs) {
    for (const [level, n] of Object.entries(r.serverLogs))
      if (n > 0) logged[`${LABEL[r.server]} ${level}`] = (logged[`${LABEL[r.server]} ${level}`] ?? 0) + n;
  }
  for (const [what, n] of Object.entries(logged))
    notes.push(`server logger: ${n} ${what} line(s) during measured runs (the first ones printed above).`);
  if (!PINNED) notes.push('not pinned: servers and load share cores; figures are noisier.');
  notes.push(`took ${seconds.toFixed(0)} s; µs/msg = the server's CPU per message echoed (one in, one out).`);
  return notes;
}

function report(kinds, runs, versions, seconds) {
  const summary = summarize(kinds, runs);
  const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');
  const us = (x) => (x === undefined ? '-' : x.toFixed(1));
  const these = (kind, name) => runs.filter((r) => r.server === kind && r.scenario === name);
  // ! = a run with errors (see the notes), * = other processes busy during a run.
  const mark = (kind, name) => (these(kind, name).some((r) => r.flagged) ? '!' : '') + (these(kind, name).some((r) => r.noisy) ? '*' : '');
  const rows = kinds.map((kind) => [
    LABEL[kind],
    ...SCENARIOS.flatMap(({ name }) => {
      const s = summary[kind][name];
      return [int(s.median) + mark(kind, name), ratio(s.ratio), us(s.usPerMessage)];
    }),
  ]);
  const header = ['server', ...SCENARIOS.flatMap(({ name }) => [`${name} msg/s`, 'x ws', 'µs/msg'])];
  console.log('');
  console.log(`WebSocket echo, ${opts.connections} sockets, each server on one core, median of ${opts.rounds} x ${opts.seconds} s`);
  console.log('  ping-pong: 32 B text, 1 in flight per socket; pipelined: 32 B text, 16 in flight; binary-4k: 4 KiB binary, 16 in flight');
  console.log('  ! = a run with errors, * = other processes busy during a run (see the notes)');
  console.log('');
  console.log(table(header, rows));
  const notes = notesOn(runs, seconds);
  console.log('');
  console.log(`notes:\n${notes.map((n) => `  - ${n}`).join('\n')}`);

  // The rows of a docs table, to paste.
  console.log('');
  console.log(`| server | ${SCENARIOS.map(({ name }) => `${name} msg/s | × ws | µs/msg`).join(' | ')} |`);
  console.log(`|---|${SCENARIOS.map(() => '---:|---:|---:').join('|')}|`);
  for (const row of rows) console.log(`| ${row.map((c) => String(c).replace(/x$/, '×')).join(' | ')} |`);

  const json = {
    versions,
    pinned: PINNED,
    rounds: opts.rounds,
    seconds: opts.seconds,
    connections: opts.connections,
    scenarios: SCENARIOS,
    foreignLimit: FOREIGN_LIMIT,
    servers: summary,
    runs: runs.map((r) => ({
      round: r.round,
      scenario: r.scenario,
      server: r.server,
      mps: r.mps,
      messages: r.messages,
      total: r.total,
      served: r.served,
      mismatches: r.mismatches,
      errors: r.errors,
      lost: r.lost,
      closedEarly: r.closedEarly,
      slowestSlice: r.slowestSlice,
      serverCpu: r.serverCpu,
      loadCpu: r.loadCpu,
      foreign: r.foreign,
      usPerMessage: r.usPerMessage,
      flagged: r.flagged,
      noisy: r.noisy,
      rerun: r.rerun ?? false,
    })),
    notes,
  };
  console.log('');
  console.log(`BENCH_JSON ${JSON.stringify(json)}`);
}

await runBench(main);
