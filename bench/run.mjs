#!/usr/bin/env node
// bench/run.mjs: waitstate vs node:http, hello world, throughput (requests per second).
//
//   npm run bench                       (= npm run build && node bench/run.mjs)
//   node bench/run.mjs [--rounds N] [--seconds S] [--warmup S] [--tool wrk|autocannon]
//   node bench/run.mjs --profile [--seconds S] [--tool ...]
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
// METHOD (research/perf-anchors.md). Server pinned to core 0, load tool (and this driver) to
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
// autocannon-load.mjs (one autocannon run in its own pinned process), cpuprofile.mjs (--profile).
//
// HOW TO READ IT. "ratio" = waitstate median / node:http median, from the same interleaved run:
// compare ratios, not absolute req/s (this box drifts +-15 % between runs minutes apart; treat
// differences under ~20 % as noise). Targets (the issue): keep-alive ratio must be >= 0.5 (goal
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

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { summarize } from './cpuprofile.mjs';

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

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');

const SERVERS = ['waitstate', 'node'];
const LABEL = { waitstate: 'waitstate', node: 'node:http' };
const CONNECTIONS = 50;
const DEPTH = 16;
const SCENARIOS = [
  { name: 'keep-alive', depth: 1, must: 0.5, goal: 1.0 },
  { name: 'pipelined', depth: DEPTH, must: 1.0, goal: 3.0 },
];
const BODY = 'Hello, World!';
const FOREIGN_LIMIT = 5; // % of one core used by other processes during a run
const SATURATED_CPU = 90; // % of one core: that process is the limit
const BUSY_CLIENT_CPU = 75; // % of one core: a load tool this busy while the server is not saturated is the likely limit
const AUTOCANNON_CEILING = 140_000; // req/s; autocannon saturates its core at ~150-155k here

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
    else if (flag === '--tool') opts.tool = takeValue();
    else if (flag === '--rounds' || flag === '--seconds' || flag === '--warmup') {
      const n = Number(takeValue());
      const min = flag === '--warmup' ? 0 : 1;
      if (!Number.isInteger(n) || n < min || n > 3600) usage(`${flag} needs an integer >= ${min}`);
      opts[flag.slice(2)] = n;
    } else usage(`unknown argument ${argv[i]}`);
  }
  if (opts.tool !== undefined && !['wrk', 'autocannon'].includes(opts.tool)) usage('--tool must be wrk or autocannon');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const BASE_PORT = Number(process.env.BENCH_PORT ?? 18180);
if (!Number.isInteger(BASE_PORT) || BASE_PORT < 1 || BASE_PORT > 65534) usage('BENCH_PORT must be a port number');

// ---------------------------------------------------------------------------------------------
// Environment: tools, pinning, /proc

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const HAVE_WRK = onPath('wrk');
const TOOL = opts.tool ?? (HAVE_WRK ? 'wrk' : 'autocannon');
if (TOOL === 'wrk' && !HAVE_WRK) usage('--tool wrk: wrk is not on PATH (apt-get install wrk)');
const PINNED = onPath('taskset') && availableParallelism() >= 2;
const SERVER_CORE = 0;
const LOAD_CORE = 1;
if (PINNED) spawnSync('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });

/** [command, args], under `taskset -c CORE` when pinning is available. */
const pinned = (core, cmd, args) => (PINNED ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

function toolVersion() {
  if (TOOL === 'wrk') {
    const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
    return /wrk\s+(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
  }
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

const HAVE_PROC = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** Fields of /proc/PID/stat after "(comm)": index 0 is field 3 (state). */
function statFields(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process (all its threads), in clock ticks; undefined when it is gone. */
function cpuTicks(pid) {
  if (!HAVE_PROC || pid === undefined) return undefined;
  try {
    const f = statFields(pid);
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** Busy ticks (user + nice + system) of the whole machine, all cores, from /proc/stat. */
function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2];
}

/** Pids of the kernel threads (their work, e.g. ksoftirqd for loopback TCP, is not "foreign"). */
function kernelThreads() {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (Number(statFields(name)[6]) & 0x00200000) pids.push(Number(name)); // PF_KTHREAD
    } catch {
      // it ended while we looked
    }
  }
  return pids;
}

/**
 * A CPU snapshot: the machine's busy ticks, the kernel threads' and those of each of our pids.
 * Foreign CPU between two snapshots = machine - kernel threads - ours: it counts short-lived
 * processes too (a test runner forking workers), which a per-process scan would miss.
 */
function snapshot(pids, kthreads) {
  if (!HAVE_PROC) return undefined;
  let kernel = 0;
  for (const pid of kthreads) kernel += cpuTicks(pid) ?? 0;
  return { t: performance.now(), machine: machineTicks(), kernel, pids: new Map(pids.map((pid) => [pid, cpuTicks(pid)])) };
}

/** % of one core used by others between snapshots a and b; pid's % of one core. */
function cpuBetween(a, b) {
  const secs = (b.t - a.t) / 1000;
  const pidPct = (pid) => {
    const [x, y] = [a.pids.get(pid), b.pids.get(pid)];
    return x === undefined || y === undefined ? undefined : (100 * (y - x)) / CLK_TCK / secs;
  };
  let ours = 0;
  for (const pid of b.pids.keys()) ours += pidPct(pid) ?? 0;
  const foreign = (100 * (b.machine - a.machine - (b.kernel - a.kernel))) / CLK_TCK / secs - ours;
  return { foreign: Math.max(0, foreign), pidPct };
}

/** Wait (at most maxMs) for a 1 s window in which other processes use < FOREIGN_LIMIT % of a core. */
async function waitForQuiet(ours, maxMs = 5000) {
  if (!HAVE_PROC) return undefined;
  const kthreads = kernelThreads();
  const deadline = Date.now() + maxMs;
  let pct;
  do {
    const a = snapshot([...ours], kthreads);
    await sleep(1000);
    pct = cpuBetween(a, snapshot([...ours], kthreads)).foreign;
    if (pct < FOREIGN_LIMIT) return pct;
  } while (Date.now() < deadline);
  return pct;
}

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked and killed on exit or Ctrl-C

const children = new Set();
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, async () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\nbench: ${signal}, stopping the servers`);
    for (const child of children) child.kill('SIGTERM');
    const deadline = Date.now() + 2000;
    while (children.size > 0 && Date.now() < deadline) await sleep(50);
    process.exit(130); // the exit handler SIGKILLs what is left
  });
}

/** Resolves with the exit code once the child exits, or undefined after ms. */
function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function portTaken(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (taken) => {
      socket.destroy();
      resolve(taken);
    };
    socket.setTimeout(1000, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Start bench/server.mjs KIND PORT pinned to the server core; resolves once it is listening. */
async function startServer(kind, port, nodeFlags = []) {
  if (await portTaken(port)) throw new Error(`port ${port} is in use (set BENCH_PORT to move the benchmark's ports)`);
  const [cmd, args] = pinned(SERVER_CORE, process.execPath, [...nodeFlags, join(HERE, 'server.mjs'), kind, String(port)]);
  const child = track(spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }));
  child.stdin.on('error', () => {}); // the server may be gone when we write
  createInterface({ input: child.stderr }).on('line', (line) => console.error(`  [${LABEL[kind]}] ${line}`));
  const statsWaiters = [];
  let onReady;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('READY ')) onReady?.();
    else if (line.startsWith('STATS ')) statsWaiters.shift()?.(JSON.parse(line.slice(6)));
  });
  const ready = await Promise.race([new Promise((resolve) => (onReady = () => resolve(true))), exited(child, 15_000).then(() => false)]);
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`${LABEL[kind]} server did not start on port ${port} (see its messages above)`);
  }
  return {
    kind,
    port,
    pid: child.pid,
    url: `http://127.0.0.1:${port}/`,
    /** {requests, logs: {error, warn, info}} so far, or undefined if it does not answer in 2 s. */
    stats() {
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 2000);
        statsWaiters.push((s) => {
          clearTimeout(timer);
          resolve(s);
        });
        child.stdin.write('stats\n');
      });
    },
    async stop() {
      child.kill('SIGTERM');
      if ((await exited(child, 5000)) === undefined && child.exitCode === null) {
        child.kill('SIGKILL');
        await exited(child, 2000);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Checks before loading

/** One keep-alive GET /: {status, rawHeaders, body}. */
function getOnce(port) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, rawHeaders: res.rawHeaders, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', reject);
    req.end();
  }).finally(() => agent.destroy());
}

/** Write `depth` GETs in one write on one connection; resolves with the number of hello bodies read (5 s max). */
function pipelinedAnswers(port, depth) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const count = () => text.split(BODY).length - 1;
    const timer = setTimeout(() => finish(), 5000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(count());
    };
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(depth)));
    socket.on('data', (chunk) => {
      text += chunk;
      if (count() >= depth) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}

async function verify(server) {
  const label = LABEL[server.kind];
  let res;
  try {
    res = await getOnce(server.port);
  } catch (error) {
    throw new Error(`${label} did not answer GET /: ${error.message}`);
  }
  if (res.status !== 200 || res.body !== BODY) {
    throw new Error(`${label} answered ${res.status} ${JSON.stringify(res.body.slice(0, 80))}, expected 200 "${BODY}"`);
  }
  const headers = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const [name, value] = [res.rawHeaders[i], res.rawHeaders[i + 1]];
    headers.push(/^(date|keep-alive)$/i.test(name) ? name : `${name}: ${value}`);
  }
  const answers = await pipelinedAnswers(server.port, DEPTH);
  if (answers !== DEPTH) throw new Error(`${label} answered ${answers} of ${DEPTH} pipelined GETs on one connection`);
  console.error(`  ${label.padEnd(10)} ok: 200 "${BODY}", ${DEPTH}/${DEPTH} pipelined; headers: ${headers.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// One load run

function loadCommand(scenario, url, seconds) {
  if (TOOL === 'wrk') {
    const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`];
    if (scenario.depth > 1) args.push('-s', join(HERE, 'pipeline.lua'), url, '--', String(scenario.depth));
    else args.push(url);
    return pinned(LOAD_CORE, 'wrk', args);
  }
  const script = join(HERE, 'autocannon-load.mjs');
  return pinned(LOAD_CORE, process.execPath, [script, url, String(CONNECTIONS), String(scenario.depth), String(seconds)]);
}

function parseWrk(out) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  if (!Number.isFinite(rps) || !Number.isFinite(requests)) return undefined;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const [connectErr, readErr, writeErr, timeouts] = sock ? sock.slice(1).map(Number) : [0, 0, 0, 0];
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    requests,
    rps,
    non2xx,
    errors: connectErr + readErr + writeErr + timeouts,
    errorDetail: sock ? { connect: connectErr, read: readErr, write: writeErr, timeout: timeouts } : {},
  };
}

function parseAutocannon(out) {
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) return undefined;
  const r = JSON.parse(line.slice(7));
  return {
    requests: r.requests,
    rps: r.requests / r.seconds,
    non2xx: r.non2xx,
    errors: r.errors, // autocannon counts timeouts among errors
    errorDetail: { errors: r.errors, timeouts: r.timeouts, statusCodes: r.statusCodes },
  };
}

/** Run the load tool once against `server`; measures tool, server and foreign CPU on the way. */
async function loadOnce(scenario, server, seconds, ours) {
  const [cmd, args] = loadCommand(scenario, server.url, seconds);
  const statsBefore = await server.stats();
  const kthreads = HAVE_PROC ? kernelThreads() : [];
  const child = track(spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  // CPU snapshots every 250 ms while the tool runs; the first and the last one (the tool still
  // alive in both) bracket the measurement window.
  const pids = [...ours, child.pid];
  const samples = [];
  const sampler = setInterval(() => {
    const s = snapshot(pids, kthreads);
    if (s !== undefined && s.pids.get(child.pid) !== undefined) samples.push(s);
  }, 250);
  const code = await exited(child, (seconds + 20) * 1000);
  clearInterval(sampler);
  if (code === undefined) {
    child.kill('SIGKILL');
    throw new Error(`${TOOL} did not finish within ${seconds + 20} s`);
  }
  const statsAfter = await server.stats();
  const parsed = TOOL === 'wrk' ? parseWrk(out) : parseAutocannon(out);
  if (parsed === undefined || code !== 0) throw new Error(`${TOOL} failed (exit ${code}):\n${out.trim()}`);

  let loadCpu, serverCpu, foreign;
  if (samples.length >= 2) {
    const cpu = cpuBetween(samples[0], samples.at(-1));
    [loadCpu, serverCpu, foreign] = [cpu.pidPct(child.pid), cpu.pidPct(server.pid), cpu.foreign];
  }
  const logs = {};
  if (statsBefore && statsAfter) {
    for (const level of ['error', 'warn', 'info']) logs[level] = statsAfter.logs[level] - statsBefore.logs[level];
  }
  return {
    ...parsed,
    served: statsBefore && statsAfter ? statsAfter.requests - statsBefore.requests : undefined,
    serverLogs: logs,
    loadCpu,
    serverCpu,
    serverUsPerReq: serverCpu !== undefined ? (serverCpu / 100 / parsed.rps) * 1e6 : undefined,
    foreign,
    flagged: parsed.non2xx > 0 || parsed.errors > 0,
  };
}

/** loadOnce after waiting for quiet; re-run once if other processes were busy during it. */
async function measured(scenario, server, seconds, ours) {
  const quiet = await waitForQuiet(ours);
  let run = await loadOnce(scenario, server, seconds, ours);
  if (run.foreign !== undefined && run.foreign >= FOREIGN_LIMIT) {
    console.error(`    (other processes used ${run.foreign.toFixed(0)} % of a core during the run: re-running it once)`);
    await waitForQuiet(ours);
    const again = await loadOnce(scenario, server, seconds, ours);
    if (again.foreign < run.foreign) run = again;
    run.rerun = true;
  }
  run.quietBefore = quiet;
  run.noisy = run.foreign !== undefined && run.foreign >= FOREIGN_LIMIT;
  return run;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const int = (n) => (n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US'));
const pct = (n) => (n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(0)}%`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) =>
        i === 0 || (typeof c === 'string' && !/^[\d,.%x*!-]+$/.test(c)) ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Why a scenario's figures may be limited by the client rather than the servers. */
function clientBoundNotes(runs) {
  const notes = [];
  for (const run of runs) {
    if (run.loadCpu >= SATURATED_CPU) notes.push(`${TOOL} at ${pct(run.loadCpu)} CPU vs ${LABEL[run.server]}`);
    else if (run.loadCpu >= BUSY_CLIENT_CPU && run.serverCpu < SATURATED_CPU) {
      notes.push(`${TOOL} at ${pct(run.loadCpu)} CPU while ${LABEL[run.server]} used only ${pct(run.serverCpu)}`);
    }
    if (TOOL === 'autocannon' && run.rps >= AUTOCANNON_CEILING)
      notes.push(`autocannon near its ~150k req/s ceiling vs ${LABEL[run.server]}`);
  }
  return [...new Set(notes)];
}

// ---------------------------------------------------------------------------------------------
// Compare: waitstate vs node:http

async function compare() {
  const ports = { waitstate: BASE_PORT, node: BASE_PORT + 1 };
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

try {
  await (opts.profile ? profile() : compare());
} catch (error) {
  if (interrupted) await new Promise(() => {}); // the signal handler is stopping the children and exits 130
  console.error(`bench: ${error.message}`);
  process.exitCode = 1;
}
process.exit();
