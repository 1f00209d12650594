#!/usr/bin/env node
// bench/peers.mjs: waitstate beside the servers its users compare it with, hello world,
// requests per second and the ratio to node:http measured in the same run.
//
//   npm run bench:peers                 (= npm run build && node bench/peers.mjs)
//   node bench/peers.mjs [--rounds N] [--seconds S] [--budget S] [--tool wrk|autocannon] [--only a,b]
//   BENCH_PORT=19000 node bench/peers.mjs   (ports BENCH_PORT+20 ...; default 18180)
//
// SERVERS, each in its own process answering GET / with "Hello, World!" (text/plain, 13 bytes):
//   node             node:http createServer                         (bench/server.mjs node)
//   hono             a Hono app on @hono/node-server                 (bench/server.mjs hono)
//   fastify          fastify, the route returning the text           (bench/server.mjs fastify)
//   waitstate        waitstate inline (threads 0), a Fetch handler   (bench/server.mjs waitstate)
//   waitstate-hono   waitstate inline, the same Hono app             (bench/server.mjs waitstate-hono)
//   waitstate-threads  waitstate, 4 worker threads (the CLI default) (bench/workers-server.mjs)
//   waitress         Waitress (4 threads, its default), a WSGI app   (bench/waitress_app.py), run
//                    by /usr/bin/python3 -m waitress when that python has waitress
//                    (WAITRESS_PYTHON overrides it); skipped with a note otherwise.
//
// METHOD, as bench/run.mjs (bench/hello-lib.mjs does the loading): every server pinned to core 0,
// the load tool (wrk if on PATH, else autocannon) and this driver to core 1; 50 connections,
// keep-alive (one request in flight per connection) and pipelined (16 in flight). Each server is
// checked first (200 "Hello, World!", 16 pipelined answers), warmed up for 1 s, then rounds run
// round -> scenario -> server, the order of servers reversed every other round; the table shows
// medians. One core for each server: worker threads and Waitress's threads share it, so the
// figures compare the cost of a request, not how a server spreads over cores (for that, run
// several processes: waitstate --processes, node:cluster, several Waitress behind a balancer).
//
// TIME. Bounded: rounds x scenarios x servers x seconds of load, plus about 1 s per server to
// start and warm up; the defaults (2 rounds x 3 s, 7 servers) take about 100 s. A run during which
// other processes used >= 5 % of a core is re-run once if the runs left still end within --budget
// seconds (default 120); else it is kept and marked *. Every wait is bounded; Ctrl-C stops them.
//
// HOW TO READ IT. Compare ratios ("x node"), not absolute req/s: this machine drifts +-15 % between
// runs. A pipelined figure near the load tool's ceiling is a lower bound (noted). Pipelining is
// rare from real clients (browsers do not pipeline); proxies in front hold keep-alive connections.
// The last line, BENCH_JSON {...}, holds everything; the lines before it a Markdown table.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CONNECTIONS, DEPTH, helloLoad } from './hello-lib.mjs';
import { HERE, LOAD_CORE, PINNED, SERVER_CORE, FOREIGN_LIMIT, pinSelf, spawnProgram, spawnServer } from './lib.mjs';
import { LOAD_TOOLS, int, median, packageVersion, parseBenchArgs, pct, runBench, table } from './lib.mjs';

const SERVERS = ['node', 'hono', 'fastify', 'waitstate', 'waitstate-hono', 'waitstate-threads', 'waitress'];
const LABEL = {
  node: 'node:http',
  hono: '@hono/node-server',
  fastify: 'fastify',
  waitstate: 'waitstate',
  'waitstate-hono': 'waitstate + Hono',
  'waitstate-threads': 'waitstate, 4 threads',
  waitress: 'Waitress',
};
const SCENARIOS = [
  { name: 'keep-alive', depth: 1 },
  { name: 'pipelined', depth: DEPTH },
];
const WARMUP_SECONDS = 1;

function usage(message) {
  if (message) console.error(`bench: ${message}`);
  console.error(
    `usage: node bench/peers.mjs [--rounds N] [--seconds S] [--budget S] [--tool wrk|autocannon] [--only ${SERVERS.join(',')}]`,
  );
  process.exit(message ? 1 : 0);
}

const opts = parseBenchArgs(process.argv.slice(2), {
  scenarios: SERVERS,
  defaults: { rounds: 2, seconds: 3, budget: 120, only: SERVERS },
  limits: { rounds: [1, 20], seconds: [1, 60], budget: [10, 3600] },
  choices: { tool: LOAD_TOOLS },
  usage,
  what: 'server',
});
const BASE_PORT = Number(process.env.BENCH_PORT ?? 18180) + 20;
if (!Number.isInteger(BASE_PORT) || BASE_PORT < 1 || BASE_PORT + SERVERS.length > 65535) usage('BENCH_PORT must be a port number');
const WAITRESS_PYTHON = process.env.WAITRESS_PYTHON ?? '/usr/bin/python3';

const load = helloLoad({ tool: opts.tool, labels: LABEL, usage });
pinSelf(LOAD_CORE);

// Imports waitress (failing when it cannot), then prints its version if packaging metadata says it.
const PYTHON_WAITRESS_VERSION = [
  'import waitress, importlib.metadata as m',
  'try: print(m.version("waitress"))',
  'except Exception: print("?")',
].join('\n');

/** Waitress's version when WAITRESS_PYTHON can import it, else undefined. */
function waitressVersion() {
  const r = spawnSync(WAITRESS_PYTHON, ['-c', PYTHON_WAITRESS_VERSION], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function start(kind, port) {
  const common = {
    port,
    label: LABEL[kind],
    cores: SERVER_CORE,
    readyMs: 15_000,
    notStarted: `${LABEL[kind]} did not start on port ${port}`,
  };
  let server;
  if (kind === 'waitress') {
    server = await spawnProgram({
      ...common,
      cmd: WAITRESS_PYTHON,
      args: ['-m', 'waitress', `--listen=127.0.0.1:${port}`, 'waitress_app:app'],
      cwd: HERE,
    });
  } else {
    const [script, serverKind] = kind === 'waitstate-threads' ? ['workers-server.mjs', 'ws-hello-threads'] : ['server.mjs', kind];
    server = await spawnServer({ ...common, args: [join(HERE, script), serverKind, String(port)], statsMs: 2000 });
  }
  return { ...server, kind, port, url: `http://127.0.0.1:${port}/` };
}

async function main() {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const notes = [];
  const versions = { node: process.version, hono: packageVersion('hono'), honoNodeServer: packageVersion('@hono/node-server') };
  versions.fastify = packageVersion('fastify');
  let kinds = SERVERS.filter((kind) => opts.only.includes(kind));
  if (kinds.includes('waitress')) {
    versions.waitress = waitressVersion();
    if (versions.waitress === undefined) {
      kinds = kinds.filter((kind) => kind !== 'waitress');
      notes.push(`Waitress skipped: ${WAITRESS_PYTHON} cannot import waitress (apt-get install python3-waitress, or set WAITRESS_PYTHON)`);
    }
  }
  console.error(
    `bench: ${load.tool} ${load.toolVersion()}, Node ${process.version}, ${kinds.length} servers, ${opts.rounds} round(s) x ${opts.seconds} s ` +
      `per server per scenario, ${CONNECTIONS} connections, pipelined depth ${DEPTH}; about ` +
      `${Math.round(kinds.length * (2 + SCENARIOS.length * opts.rounds * opts.seconds))} s`,
  );
  console.error(PINNED ? `bench: servers on core ${SERVER_CORE}, load and driver on core ${LOAD_CORE}` : 'bench: not pinned');

  const servers = {};
  for (const [i, kind] of kinds.entries()) servers[kind] = await start(kind, BASE_PORT + i);
  const ours = new Set([process.pid, ...Object.values(servers).map((s) => s.pid)]);
  for (const kind of kinds) await load.verify(servers[kind]);
  for (const kind of kinds) await load.loadOnce(SCENARIOS[0], servers[kind], WARMUP_SECONDS, ours);

  const runs = [];
  let runsLeft = opts.rounds * SCENARIOS.length * kinds.length;
  // A noisy run is re-run only if that still lets the remaining runs end within the budget.
  const mayRerun = () => elapsed() + (runsLeft + 1) * opts.seconds * 1.1 <= opts.budget;
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 ? kinds : [...kinds].reverse();
    for (const scenario of SCENARIOS) {
      for (const kind of order) {
        // No quiet wait before a run (it would cost a second each): the foreign CPU during the run decides a re-run.
        runsLeft--;
        const run = await load.measured(scenario, servers[kind], opts.seconds, ours, { quietMs: 0, rerun: mayRerun() });
        Object.assign(run, { round, scenario: scenario.name, server: kind });
        runs.push(run);
        console.error(
          `  round ${round}  ${scenario.name.padEnd(10)} ${LABEL[kind].padEnd(20)} ${int(run.rps).padStart(9)} req/s  ` +
            `srv CPU ${pct(run.serverCpu)}, load CPU ${pct(run.loadCpu)}, foreign ${pct(run.foreign)}` +
            (run.flagged ? `  ! non-2xx ${run.non2xx}, errors ${run.errors}` : ''),
        );
      }
    }
  }
  if (servers.waitress !== undefined && servers.waitress.stderrLines() > 1) {
    notes.push(`Waitress wrote ${servers.waitress.stderrLines()} lines to stderr (the first printed above)`);
  }
  for (const kind of kinds) await servers[kind].stop();
  report(kinds, runs, notes, versions, elapsed());
}

function report(kinds, runs, notes, versions, seconds) {
  const med = (kind, scenario) => median(runs.filter((r) => r.server === kind && r.scenario === scenario).map((r) => r.rps));
  const usPerReq = (kind, scenario) =>
    median(runs.filter((r) => r.server === kind && r.scenario === scenario && r.serverUsPerReq !== undefined).map((r) => r.serverUsPerReq));
  const summary = {};
  for (const kind of kinds) {
    summary[kind] = {};
    for (const { name } of SCENARIOS) {
      const rps = med(kind, name);
      summary[kind][name] = { median: rps, ratio: rps / med('node', name), usPerRequest: usPerReq(kind, name) };
    }
  }
  const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');
  const us = (x) => (x === undefined ? '-' : x.toFixed(1));
  const rows = kinds.map((kind) => [
    LABEL[kind],
    int(summary[kind]['keep-alive'].median),
    ratio(summary[kind]['keep-alive'].ratio),
    us(summary[kind]['keep-alive'].usPerRequest),
    int(summary[kind].pipelined.median),
    ratio(summary[kind].pipelined.ratio),
  ]);
  console.log('');
  console.log(
    `hello world, ${load.tool} ${load.toolVersion()}, ${CONNECTIONS} connections, each server on one core, median of ${opts.rounds} x ${opts.seconds} s`,
  );
  console.log('');
  console.log(table(['server', 'keep-alive req/s', 'x node', 'µs/req', 'pipelined req/s', 'x node'], rows, /^[\d,.%x*!-]+$/));

  for (const scenario of SCENARIOS) {
    for (const note of load.clientBoundNotes(runs.filter((r) => r.scenario === scenario.name))) {
      notes.push(`${scenario.name}: client-bound: ${note}; that figure is a lower bound.`);
    }
  }
  for (const r of runs.filter((r) => r.flagged)) {
    notes.push(
      `round ${r.round} ${r.scenario} ${LABEL[r.server]}: ${r.non2xx} non-2xx, ${r.errors} errors ${JSON.stringify(r.errorDetail)}`,
    );
  }
  for (const r of runs.filter((r) => r.noisy)) {
    notes.push(`round ${r.round} ${r.scenario} ${LABEL[r.server]}: other processes used ${pct(r.foreign)} of a core during the run (*)`);
  }
  if (!PINNED) notes.push('not pinned: servers and load share cores; figures are noisier.');
  notes.push(`took ${seconds.toFixed(0)} s; µs/req = the server's CPU per keep-alive request.`);
  console.log('');
  console.log(`notes:\n${notes.map((n) => `  - ${n}`).join('\n')}`);

  // The rows of docs/usage.md's table, to paste.
  console.log('');
  console.log('| server | keep-alive req/s | × node:http | pipelined req/s | × node:http |');
  console.log('|---|---:|---:|---:|---:|');
  for (const row of rows) console.log(`| ${row[0]} | ${row[1]} | ${row[2].replace('x', '×')} | ${row[4]} | ${row[5].replace('x', '×')} |`);

  const json = {
    tool: load.tool,
    toolVersion: load.toolVersion(),
    versions,
    pinned: PINNED,
    rounds: opts.rounds,
    seconds: opts.seconds,
    connections: CONNECTIONS,
    pipelineDepth: DEPTH,
    foreignLimit: FOREIGN_LIMIT,
    servers: summary,
    runs: runs.map(({ round, scenario, server, rps, serverCpu, loadCpu, foreign, serverUsPerReq, non2xx, errors, noisy, rerun }) => ({
      round,
      scenario,
      server,
      rps,
      serverCpu,
      loadCpu,
      foreign,
      serverUsPerReq,
      non2xx,
      errors,
      noisy,
      rerun: rerun ?? false,
    })),
    notes,
  };
  console.log('');
  console.log(`BENCH_JSON ${JSON.stringify(json)}`);
}

await runBench(main);
