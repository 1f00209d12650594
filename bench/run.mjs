#!/usr/bin/env node
// bench/run.mjs: waitstate vs node:http, hello world, throughput (requests per second).
//
//   npm run bench                       (= npm run build && node bench/run.mjs)
//   node bench/run.mjs [--rounds N] [--seconds S] [--warmup S] [--tool wrk|autocannon]
//   node bench/run.mjs --profile [--seconds S] [--tool ...]
//   node bench/run.mjs --baseline DIR   also runs the waitstate built in DIR (a checkout's dist/,
//                                       e.g. of the commit before a change) in the same rounds
//   BENCH_PORT=19000 node bench/run.mjs   (ports used: BENCH_PORT and BENCH_PORT+1; default 18180)
//
// WHAT IT MEASURES. Two servers answer GET / with the same 13-byte "Hello, World!" text/plain
// response, each in its own process (bench/server.mjs): waitstate's serve() with
// examples/hello/app.mjs (inline, threads 0) and a bare node:http createServer. Headers differ a
// little and are left alone: waitstate adds Date and Server, node:http adds Date, Connection and
// Keep-Alive. Two scenarios, both 50 connections on one client thread:
//   keep-alive  one request in flight per connection   (wrk -t1 -c50; autocannon -c 50)
//   pipelined   16 requests in flight per connection   (wrk + bench/pipeline.lua; autocannon -p 16)
//
// METHOD. Server pinned to core 0, load tool (and this driver) to
// core 1 with taskset, when taskset exists and there are 2+ cores. One tool for the whole run:
// wrk if it is on PATH, else autocannon (--tool forces one). After a warm-up per server and
// scenario (not recorded), rounds are interleaved round -> scenario -> server, and the server
// that goes first alternates from round to round; the table shows medians over rounds. Before
// each run the driver waits (at most 5 s) for a quiet second, and measures the CPU that other
// processes used during the run ("foreign" = machine busy time from /proc/stat, minus kernel
// threads, minus the servers, the tool and this driver): a run during which they used >= 5 % of
// a core is re-run once, and marked * if it is still noisy. Each server is checked first: one
// GET must answer 200 "Hello, World!", and 16 pipelined GETs on one connection 16 answers.
//
// Files: run.mjs (this driver), server.mjs (the two servers), pipeline.lua (wrk pipelining),
// autocannon-load.mjs (one autocannon run in its own pinned process), cpuprofile.mjs (--profile),
// hello-lib.mjs (checking and loading a hello server, shared with bench/peers.mjs), lib.mjs and
// server-lib.mjs (helpers shared with bench/workers.mjs and its servers).
//
// HOW TO READ IT. "ratio" = waitstate median / node:http median, from the same interleaved run:
// compare ratios, not absolute req/s (this box drifts +-15 % between runs minutes apart; treat
// differences under ~20 % as noise). Targets: keep-alive ratio must be >= 0.5 (goal
// 1.0), pipelined must be >= 1.0 (goal 3). "srv CPU" near 100 % means the server's core is
// saturated (the number is a server limit); "load CPU" near 100 %, or >= 75 % while the server is
// below 90 %, means the client is the limit (then the server figure is a lower bound and the
// ratio can be understated). autocannon tops
// out near 150k req/s on one core here, so a pipelined waitstate faster than that needs wrk.
// Non-2xx responses and socket errors/timeouts are counted; a run that has any is flagged (!).
// The last line, BENCH_JSON {...}, holds everything in machine-readable form.
//
// --profile runs waitstate alone under `node --cpu-prof` (profiles in os.tmpdir()), one server
// process per scenario (warm-up + one load), and prints self time per function (top 25) and per
// group (node internals / dist/src / dist/machines / xstate / gc / idle ...), as % and as µs per
// request served (see bench/cpuprofile.mjs). The profiler slows the server; its req/s is not a
// benchmark figure.
//
// Exit status: 0 when every run completed (whatever the figures), 1 when a server did not start or
// answer, a tool failed, or the arguments were wrong; 130 on Ctrl-C. Child processes are killed on
// every exit path; every wait is bounded in time.

import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarize } from './cpuprofile.mjs';
import { CONNECTIONS, DEPTH, helloLoad } from './hello-lib.mjs';
import { BUSY_CLIENT_CPU, HERE, LOAD_CORE, PINNED, SATURATED_CPU, SERVER_CORE, pinSelf } from './lib.mjs';
import { LOAD_TOOLS, runBench, spawnServer } from './lib.mjs';
import { int, median, pct, table } from './lib.mjs';

// The per-run fields written to the BENCH_JSON line.
const RUN_FIELDS = [
  'round',
  'scenario',
  'server',
  'rps',
  'requests',
  'served',
  'non2xx',
  'errors',
  'errorDetail',
  'serverCpu',
  'loadCpu',
  'foreign',
  'serverUsPerReq',
  'serverLogs',
  'flagged',
  'noisy',
];

const LABEL = { waitstate: 'waitstate', node: 'node:http', base: 'baseline' };
const SCENARIOS = [
  { name: 'keep-alive', depth: 1, must: 0.5, goal: 1.0 },
  { name: 'pipelined', depth: DEPTH, must: 1.0, goal: 3.0 },
];

// ---------------------------------------------------------------------------------------------
// Arguments

function usage(message) {
  if (message) console.error(`bench: ${message}`);
  console.error('usage: node bench/run.mjs [--rounds N] [--seconds S] [--warmup S] [--tool wrk|autocannon] [--profile]');
  process.exit(message ? 1 : 0);
}

function parseArgs(argv) {
  const opts = { rounds: 3, seconds: 5, warmup: 2, tool: undefined, profile: false };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].split('=', 2);
    const takeValue = () => (value !== undefined ? value : argv[++i]);
    if (flag === '--help' || flag === '-h') usage();
    else if (flag === '--profile') opts.profile = true;
    else if (flag === '--baseline') opts.baseline = takeValue();
    else if (flag === '--tool') opts.tool = takeValue();
    else if (flag === '--rounds' || flag === '--seconds' || flag === '--warmup') {
      const n = Number(takeValue());
      const min = flag === '--warmup' ? 0 : 1;
      if (!Number.isInteger(n) || n < min || n > 3600) usage(`${flag} needs an integer >= ${min}`);
      opts[flag.slice(2)] = n;
    } else usage(`unknown argument ${argv[i]}`);
  }
  if (opts.tool !== undefined && !LOAD_TOOLS.includes(opts.tool)) usage('--tool must be wrk or autocannon');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const SERVERS = opts.baseline === undefined ? ['waitstate', 'node'] : ['waitstate', 'node', 'base'];
if (opts.baseline !== undefined) {
  const index = join(resolve(opts.baseline), 'src/index.js');
  if (!existsSync(index)) usage(`--baseline: ${index} does not exist (give a built dist/ directory)`);
  process.env.BENCH_BASELINE_INDEX = pathToFileURL(index).href; // read by bench/server.mjs
}
const BASE_PORT = Number(process.env.BENCH_PORT ?? 18180);
if (!Number.isInteger(BASE_PORT) || BASE_PORT < 1 || BASE_PORT > 65534) usage('BENCH_PORT must be a port number');

// ---------------------------------------------------------------------------------------------
// Environment: tools, pinning

const { tool: TOOL, toolVersion, verify, loadOnce, measured, clientBoundNotes } = helloLoad({ tool: opts.tool, labels: LABEL, usage });
pinSelf(LOAD_CORE);

// ---------------------------------------------------------------------------------------------
// Servers

/** Start bench/server.mjs KIND PORT pinned to the server core; resolves once it is listening. */
async function startServer(kind, port, nodeFlags = []) {
  const server = await spawnServer({
    port,
    args: [...nodeFlags, join(HERE, 'server.mjs'), kind, String(port)],
    label: LABEL[kind],
    cores: SERVER_CORE,
    readyMs: 15_000,
    statsMs: 2000, // stats(): {requests, logs: {error, warn, info}} so far, or undefined if it does not answer in 2 s
    notStarted: `${LABEL[kind]} server did not start on port ${port} (see its messages above)`,
  });
  return { kind, port, pid: server.pid, url: `http://127.0.0.1:${port}/`, stats: server.stats, stop: server.stop };
}

// ---------------------------------------------------------------------------------------------
// Compare: waitstate vs node:http

async function compare() {
  const ports = { waitstate: BASE_PORT, node: BASE_PORT + 1, base: BASE_PORT + 2 };
  console.error(
    `bench: ${TOOL} ${toolVersion()}, Node ${process.version}, ${opts.rounds} round(s) x ${opts.seconds} s per server per scenario ` +
      `(warm-up ${opts.warmup} s), ${CONNECTIONS} connections, pipelined depth ${DEPTH}`,
  );
  console.error(
    PINNED
      ? `bench: servers pinned to core ${SERVER_CORE}, load and driver to core ${LOAD_CORE}`
      : 'bench: not pinned (no taskset or a single core)',
  );

  const servers = {};
  for (const kind of SERVERS) servers[kind] = await startServer(kind, ports[kind]);
  const ours = new Set([process.pid, ...Object.values(servers).map((s) => s.pid)]);
  for (const kind of SERVERS) await verify(servers[kind]);

  if (opts.warmup > 0) {
    for (const scenario of SCENARIOS) {
      for (const kind of SERVERS) {
        console.error(`  warm-up    ${scenario.name.padEnd(10)} ${LABEL[kind].padEnd(9)} ${opts.warmup} s`);
        await loadOnce(scenario, servers[kind], opts.warmup, ours);
      }
    }
  }

  const runs = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 ? SERVERS : [...SERVERS].reverse();
    for (const scenario of SCENARIOS) {
      for (const kind of order) {
        const run = await measured(scenario, servers[kind], opts.seconds, ours);
        Object.assign(run, { round, scenario: scenario.name, server: kind });
        runs.push(run);
        console.error(
          `  round ${round}    ${scenario.name.padEnd(10)} ${LABEL[kind].padEnd(9)} ${int(run.rps).padStart(9)} req/s  ` +
            `srv CPU ${pct(run.serverCpu)}, load CPU ${pct(run.loadCpu)}, foreign ${pct(run.foreign)}` +
            (run.flagged ? `  ! non-2xx ${run.non2xx}, errors ${run.errors}` : ''),
        );
      }
    }
  }
  for (const kind of SERVERS) await servers[kind].stop();

  // Summary table
  const summary = {};
  const rows = [];
  for (const scenario of SCENARIOS) {
    const of = (kind) => runs.filter((r) => r.scenario === scenario.name && r.server === kind);
    const med = Object.fromEntries(SERVERS.map((k) => [k, median(of(k).map((r) => r.rps))]));
    const ratio = med.waitstate / med.node;
    const clientBound = clientBoundNotes([...of('waitstate'), ...of('node')]);
    const verdict =
      (ratio >= scenario.goal ? 'goal met' : ratio >= scenario.must ? 'meets bar, below goal' : 'BELOW BAR') +
      (clientBound.length > 0 ? ' (client-bound, see notes)' : '');
    rows.push([
      scenario.name,
      TOOL,
      int(med.waitstate),
      int(med.node),
      `${ratio.toFixed(2)}x`,
      `>= ${scenario.must}x`,
      `${scenario.goal}x`,
      verdict,
    ]);
    summary[scenario.name] = {
      waitstate: { median: med.waitstate, rounds: of('waitstate').map((r) => r.rps) },
      node: { median: med.node, rounds: of('node').map((r) => r.rps) },
      ratio,
      must: scenario.must,
      goal: scenario.goal,
      meetsMust: ratio >= scenario.must,
      meetsGoal: ratio >= scenario.goal,
      clientBound,
    };
  }
  console.log('');
  console.log(
    `waitstate vs node:http, hello world, ${TOOL} ${toolVersion()}, ${CONNECTIONS} connections, median of ${opts.rounds} x ${opts.seconds} s`,
  );
  console.log('');
  console.log(table(['scenario', 'tool', 'waitstate req/s', 'node:http req/s', 'ratio', 'must', 'goal', 'verdict'], rows));
  if (opts.baseline !== undefined) {
    console.log('');
    console.log(`against the baseline build in ${opts.baseline}, same rounds:`);
    console.log('');
    const baseRows = SCENARIOS.map((scenario) => {
      const med = (kind) => median(runs.filter((r) => r.scenario === scenario.name && r.server === kind).map((r) => r.rps));
      const [now, base, node] = [med('waitstate'), med('base'), med('node')];
      summary[scenario.name].base = { median: base, ratio: base / node };
      return [
        scenario.name,
        int(now),
        int(base),
        `${((now / base - 1) * 100).toFixed(1)} %`,
        `${(now / node).toFixed(2)}x`,
        `${(base / node).toFixed(2)}x`,
      ];
    });
    console.log(table(['scenario', 'waitstate req/s', 'baseline req/s', 'change', 'waitstate/node', 'baseline/node'], baseRows));
  }

  console.log('');
  console.log('per round (srv CPU = server process, % of one core; load CPU = the load tool; foreign = other processes;');
  console.log('µs/req = server CPU per request; ! = non-2xx or socket errors; * = other processes busy during the run)');
  console.log('');
  const roundRows = runs.map((r) => [
    String(r.round),
    r.scenario,
    LABEL[r.server],
    int(r.rps) + (r.flagged ? '!' : '') + (r.noisy ? '*' : ''),
    pct(r.serverCpu),
    r.serverUsPerReq === undefined ? '-' : r.serverUsPerReq.toFixed(1),
    pct(r.loadCpu),
    r.foreign === undefined ? '-' : `${r.foreign.toFixed(1)}%`,
    int(r.non2xx),
    int(r.errors),
  ]);
  console.log(table(['round', 'scenario', 'server', 'req/s', 'srv CPU', 'µs/req', 'load CPU', 'foreign', 'non-2xx', 'errors'], roundRows));

  const notes = [];
  for (const scenario of SCENARIOS) {
    for (const note of summary[scenario.name].clientBound)
      notes.push(`${scenario.name}: client-bound: ${note}; the figure is a lower bound.`);
  }
  const flagged = runs.filter((r) => r.flagged);
  for (const r of flagged) {
    notes.push(
      `round ${r.round} ${r.scenario} ${LABEL[r.server]}: ${r.non2xx} non-2xx, ${r.errors} errors ${JSON.stringify(r.errorDetail)}`,
    );
  }
  for (const r of runs.filter((r) => r.noisy)) {
    notes.push(
      `round ${r.round} ${r.scenario} ${LABEL[r.server]}: other processes used ${r.foreign.toFixed(0)} % of a core during the run (re-run once; still noisy).`,
    );
  }
  const logged = {};
  for (const r of runs)
    for (const [level, n] of Object.entries(r.serverLogs))
      if (n > 0) logged[`${LABEL[r.server]} ${level}`] = (logged[`${LABEL[r.server]} ${level}`] ?? 0) + n;
  for (const [what, n] of Object.entries(logged))
    notes.push(`server logger: ${n} ${what} line(s) during measured runs (first ones printed above).`);
  for (const r of runs) {
    if (r.served !== undefined && r.served < r.requests)
      notes.push(`round ${r.round} ${r.scenario} ${LABEL[r.server]}: tool counted ${r.requests} responses, app served only ${r.served}.`);
  }
  for (const r of runs) {
    if (r.serverCpu < SATURATED_CPU && r.loadCpu < BUSY_CLIENT_CPU) {
      notes.push(
        `round ${r.round} ${r.scenario} ${LABEL[r.server]}: neither the server (${pct(r.serverCpu)}) nor ${TOOL} (${pct(r.loadCpu)}) saturated its core: other load on the cores? Treat the figure as noise.`,
      );
    }
  }
  if (!PINNED) notes.push('not pinned: server and load share cores; figures are noisier.');
  console.log('');
  console.log(
    notes.length > 0
      ? `notes:\n${notes.map((n) => `  - ${n}`).join('\n')}`
      : 'notes: none (no errors, no non-2xx, no client-bound run, no noisy run).',
  );

  const json = {
    tool: TOOL,
    toolVersion: toolVersion(),
    node: process.version,
    pinned: PINNED,
    rounds: opts.rounds,
    seconds: opts.seconds,
    warmup: opts.warmup,
    connections: CONNECTIONS,
    pipelineDepth: DEPTH,
    scenarios: summary,
    flagged: flagged.length > 0,
    runs: runs.map((run) => ({ ...Object.fromEntries(RUN_FIELDS.map((key) => [key, run[key]])), rerun: run.rerun ?? false })),
  };
  console.log('');
  console.log(`BENCH_JSON ${JSON.stringify(json)}`);
}

// ---------------------------------------------------------------------------------------------
// Profile: waitstate alone under --cpu-prof

async function profile() {
  const dir = mkdtempSync(join(tmpdir(), 'waitstate-cpuprof-'));
  console.error(
    `bench: profiling waitstate with ${TOOL} ${toolVersion()}, ${opts.seconds} s per scenario (warm-up ${opts.warmup} s); profiles in ${dir}`,
  );
  const results = [];
  for (const scenario of SCENARIOS) {
    const scenarioDir = join(dir, scenario.name);
    const server = await startServer('waitstate', BASE_PORT, ['--cpu-prof', `--cpu-prof-dir=${scenarioDir}`, '--cpu-prof-interval=250']);
    const ours = new Set([process.pid, server.pid]);
    await verify(server);
    if (opts.warmup > 0) await loadOnce(scenario, server, opts.warmup, ours);
    const run = await measured(scenario, server, opts.seconds, ours);
    const stats = await server.stats();
    await server.stop();
    const files = readdirSync(scenarioDir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error(`no .cpuprofile written in ${scenarioDir}`);
    const file = join(scenarioDir, files[0]);
    const requests = stats?.requests ?? run.requests;
    console.error(`  ${scenario.name}: ${int(run.rps)} req/s under the profiler, ${int(requests)} requests served in the profile; ${file}`);
    results.push({ scenario, run, file, requests });
  }
  for (const { scenario, run, file, requests } of results) {
    console.log('');
    console.log(
      summarize(JSON.parse(readFileSync(file, 'utf8')), {
        requests,
        title: `waitstate ${scenario.name} (${TOOL}, ${int(run.rps)} req/s under the profiler${run.flagged ? `, ${run.non2xx} non-2xx, ${run.errors} errors!` : ''})`,
      }),
    );
  }
  console.log('');
  console.log(`profiles (open in Chrome DevTools > Performance, or: node bench/cpuprofile.mjs FILE REQUESTS): ${dir}`);
}

// ---------------------------------------------------------------------------------------------

await runBench(() => (opts.profile ? profile() : compare()));
