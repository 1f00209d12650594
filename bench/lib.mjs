// bench/lib.mjs: helpers shared by the benchmark drivers bench/run.mjs, bench/workers.mjs,
// bench/time.mjs, bench/peers.mjs and bench/websocket.mjs.
//
// Environment (PATH lookup, taskset pinning, the open-file limit), CPU sampling from /proc, the
// foreign-load gate, a process's memory from /proc, child-process tracking and cleanup, server
// start-up over the READY/STATS/CLOSED stdin/stdout protocol (bench/server-lib.mjs is the server
// side) or, for a server in another language, by polling its port; one load-tool run with CPU
// sampling, a run re-run once when other processes were busy, whether a run was bound by its
// client, wrk output parsing, and table formatting.
//
// Importing this module installs the driver's exit and signal handlers: every tracked child is
// SIGKILLed on exit, and SIGINT/SIGTERM/SIGHUP stop the children (at most 2 s) and exit 130.

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..');

export const FOREIGN_LIMIT = 5; // % of one core used by other processes during a run
export const SATURATED_CPU = 90; // % of one core: that process is the limit
export const BUSY_CLIENT_CPU = 75; // % of one core: a load tool this busy while the server is not saturated is the likely limit

// ---------------------------------------------------------------------------------------------
// Environment: tools, pinning, /proc

export const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
export const PINNED = onPath('taskset') && availableParallelism() >= 2;
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

/** Pin this driver (all its threads) to `cores`, when pinning is available. */
export const pinSelf = (cores) =>
  PINNED && spawnSync('taskset', ['-a', '-p', '-c', String(cores), String(process.pid)], { stdio: 'ignore' });

/** [command, args], under `taskset -c CORES` when pinning is available and `cores` is given. */
export const pinned = (cores, cmd, args) =>
  PINNED && cores !== undefined ? ['taskset', ['-c', String(cores), cmd, ...args]] : [cmd, args];

export const HAVE_PROC = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();
export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** Fields of /proc/PID/stat after "(comm)": index 0 is field 3 (state). */
function statFields(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process (all its threads), in clock ticks; undefined when it is gone. */
export function cpuTicks(pid) {
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
export function kernelThreads() {
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

/**
 * Start measuring CPU now: the returned function gives {foreign, pidPct(pid)} (as sampledRun's cpu)
 * for the time since, or undefined without /proc. For runs whose load is this driver itself.
 */
export function cpuMeter(pids, kthreads = kernelThreads()) {
  const a = snapshot(pids, kthreads);
  return () => (a === undefined ? undefined : cpuBetween(a, snapshot(pids, kthreads)));
}

/** {rss, hwm} (VmRSS, VmHWM: the peak resident set) in bytes from /proc/PID/status, or undefined. */
export function memory(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s)?.[1]) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** The version of an installed package (node_modules/NAME/package.json), or '?'. */
export function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

/** This process's open-file limit (the soft one, `ulimit -n`), or undefined. */
export function fdLimit() {
  try {
    return Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]) || undefined;
  } catch {
    return undefined;
  }
}

/** Wait (at most maxMs) for a 1 s window in which other processes use < FOREIGN_LIMIT % of a core. */
export async function waitForQuiet(ours, maxMs = 5000) {
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
/** Functions run on exit, after the children are killed (e.g. removing temp files). */
export const cleanups = new Set();
export function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const fn of cleanups) fn();
});
/** True once a signal arrived: the signal handler is stopping the children and exits 130. */
export let interrupted = false;
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
export function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export function portTaken(port) {
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

/**
 * Start a server process `node ...args` (on `cores`, if given) that speaks the protocol of
 * bench/server-lib.mjs; resolves once it prints READY. Its stderr lines are printed with
 * `[label]`. Rejects with notStarted after readyMs without READY.
 * Resolves {pid, stats(), close(ms), stop()}: stats() asks for its STATS object (undefined after
 * statsMs); close(ms) asks it to close gracefully and resolves {ms: the server's own time for
 * close(), seconds: as seen here} once it prints CLOSED (the process stays until stop()), or
 * undefined after ms or if it exits without CLOSED.
 */
export async function spawnServer({ port, args, label, cores, env = {}, readyMs, statsMs, notStarted }) {
  if (await portTaken(port)) throw new Error(`port ${port} is in use (set BENCH_PORT to move the benchmark's ports)`);
  const [cmd, argv] = pinned(cores, process.execPath, args);
  const child = track(spawn(cmd, argv, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
  child.stdin.on('error', () => {}); // the server may be gone when we write
  createInterface({ input: child.stderr }).on('line', (line) => console.error(`  [${label}] ${line}`));
  const statsWaiters = [];
  let onReady;
  let onClosed;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('READY ')) onReady?.();
    else if (line.startsWith('STATS ')) statsWaiters.shift()?.(JSON.parse(line.slice(6)));
    else if (line.startsWith('CLOSED ')) onClosed?.(Number(line.slice(7)));
  });
  const ready = await Promise.race([new Promise((resolve) => (onReady = () => resolve(true))), exited(child, readyMs).then(() => false)]);
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(notStarted);
  }
  return {
    pid: child.pid,
    stats() {
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(undefined), statsMs);
        statsWaiters.push((s) => {
          clearTimeout(timer);
          resolve(s);
        });
        child.stdin.write('stats\n');
      });
    },
    close(ms) {
      const t0 = performance.now();
      const closed = new Promise(
        (resolve) => (onClosed = (serverMs) => resolve({ ms: serverMs, seconds: (performance.now() - t0) / 1000 })),
      );
      child.stdin.write('close\n');
      return Promise.race([closed, exited(child, ms).then(() => undefined)]);
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

/**
 * Start a server that does not speak bench/server-lib.mjs's protocol (Waitress, say): `cmd ...args`
 * in `cwd` (on `cores`, if given), ready once `port` accepts connections. The first `maxLines` of
 * its stderr are printed with `[label]`, the rest counted. Rejects with notStarted after readyMs.
 * Resolves {pid, stats(): undefined, stop(), stderrLines()}.
 */
export async function spawnProgram({ port, cmd, args, cwd, label, cores, readyMs, notStarted, maxLines = 5 }) {
  if (await portTaken(port)) throw new Error(`port ${port} is in use (set BENCH_PORT to move the benchmark's ports)`);
  const [command, argv] = pinned(cores, cmd, args);
  const child = track(spawn(command, argv, { cwd, stdio: ['ignore', 'ignore', 'pipe'] }));
  let lines = 0;
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (++lines <= maxLines) console.error(`  [${label}] ${line}`);
    if (lines === maxLines) console.error(`  [${label}] (further lines only counted)`);
  });
  const deadline = Date.now() + readyMs;
  while (!(await portTaken(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(notStarted);
    }
    await sleep(100);
  }
  return {
    pid: child.pid,
    stats: async () => undefined,
    stderrLines: () => lines,
    async stop() {
      child.kill('SIGTERM');
      if ((await exited(child, 5000)) === undefined && child.exitCode === null) {
        child.kill('SIGKILL');
        await exited(child, 2000);
      }
    },
  };
}

/**
 * One GET on its own agent: {status, rawHeaders, body}; rejects after timeoutMs. keepAlive: a
 * keep-alive agent with one socket, else a fresh connection.
 */
export function httpGet(port, path, { keepAlive, timeoutMs }) {
  const agent = new Agent(keepAlive ? { keepAlive: true, maxSockets: 1 } : { keepAlive: false });
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, rawHeaders: res.rawHeaders, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  }).finally(() => agent.destroy());
}

// ---------------------------------------------------------------------------------------------
// One load-tool run

/**
 * Run a load tool (tracked) and collect its stdout + stderr in `out`. CPU snapshots every 250 ms
 * while it runs, of pidsWith(its pid); the first and the last one (the tool still alive in both)
 * bracket the measurement window, unless the tool prints the lines `WINDOW start` and
 * `WINDOW end` on stdout (a tool that sets up before it measures): then snapshots taken as they
 * arrive bracket it. Throws if it does not exit within seconds + 20 s.
 * Resolves {code, out, cpu}: cpu = {foreign, pidPct(pid)}, undefined with fewer than 2 samples.
 */
export async function sampledRun(cmd, args, { name, seconds, pidsWith, cwd, kthreads = kernelThreads() }) {
  const child = track(spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  const pids = pidsWith(child.pid);
  const marks = {};
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    for (const mark of ['start', 'end'])
      if (marks[mark] === undefined && out.includes(`WINDOW ${mark}\n`)) marks[mark] = snapshot(pids, kthreads);
  });
  child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  const samples = [];
  const sampler = setInterval(() => {
    const s = snapshot(pids, kthreads);
    if (s !== undefined && s.pids.get(child.pid) !== undefined) samples.push(s);
  }, 250);
  const code = await exited(child, (seconds + 20) * 1000);
  clearInterval(sampler);
  if (code === undefined) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not finish within ${seconds + 20} s`);
  }
  const [first, last] = marks.start !== undefined && marks.end !== undefined ? [marks.start, marks.end] : [samples[0], samples.at(-1)];
  return { code, out, pid: child.pid, cpu: first !== undefined && last !== first ? cpuBetween(first, last) : undefined };
}

/**
 * once() (a run resolving {foreign, ...}) after waiting (at most quietMs; 0: no wait) for a quiet
 * second among processes not in `ours`; re-run once if other processes used >= FOREIGN_LIMIT % of
 * a core during it, unless rerun is false, keeping the quieter run. Resolves the run with
 * quietBefore, noisy and (when re-run) rerun set.
 */
export async function rerunIfNoisy(once, ours, { quietMs = 5000, rerun = true } = {}) {
  const quiet = quietMs > 0 ? await waitForQuiet(ours, quietMs) : undefined;
  let run = await once();
  if (rerun && run.foreign !== undefined && run.foreign >= FOREIGN_LIMIT) {
    console.error(`    (other processes used ${run.foreign.toFixed(0)} % of a core during the run: re-running it once)`);
    if (quietMs > 0) await waitForQuiet(ours, quietMs);
    const again = await once();
    if (again.foreign < run.foreign) run = again;
    run.rerun = true;
  }
  run.quietBefore = quiet;
  run.noisy = run.foreign !== undefined && run.foreign >= FOREIGN_LIMIT;
  return run;
}

/** Why a run's figure may be limited by its client (a phrase), or undefined. */
export function clientBound({ loadCpu, serverCpu }, client, server) {
  if (loadCpu >= SATURATED_CPU) return `${client} at ${pct(loadCpu)} CPU vs ${server}`;
  if (loadCpu >= BUSY_CLIENT_CPU && serverCpu < SATURATED_CPU)
    return `${client} at ${pct(loadCpu)} CPU while ${server} used only ${pct(serverCpu)}`;
  return undefined;
}

/**
 * wrk's summary: {requests, rps, non2xx, errors, errorDetail: {connect, read, write, timeout}
 * ({} without socket errors), socketErrors: its "Socket errors: ..." line}, or undefined.
 */
export function parseWrk(out) {
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
    socketErrors: sock?.[0],
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting

export const int = (n) => (n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US'));
export const pct = (n) => (n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(0)}%`);
export const mb = (bytes) => (bytes === undefined || !Number.isFinite(bytes) ? '-' : (bytes / 1e6).toFixed(1));
/** The q-quantile (0 < q <= 1, nearest rank) of an ascending array; undefined when it is empty. */
export const quantile = (sorted, q) =>
  sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? undefined : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * A text table: the first column and cells that are not numeric (strings not matching `numeric`)
 * are left-aligned, the others right-aligned.
 */
export function table(header, rows, numeric = /^[\d,.%x*!-]+$/) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === 0 || (typeof c === 'string' && !numeric.test(c)) ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * Run a bench's `main` and exit: 1 with a one-line reason when it throws, unless Ctrl-C is what
 * stopped it (the signal handler is stopping the children and exits 130).
 */
export async function runBench(main, name = 'bench') {
  try {
    await main();
  } catch (error) {
    if (interrupted) await new Promise(() => {});
    console.error(`${name}: ${error.message}`);
    process.exitCode = 1;
  }
  process.exit();
}

/**
 * Run the scenarios named in `only`, in `order`, filling `json.scenarios`; a scenario that throws
 * is recorded and the others still run. Then print the BENCH_JSON line and exit (1 if any failed).
 */
export async function runScenarios(json, scenarios, order, only) {
  const failures = [];
  for (const name of order) {
    if (!only.includes(name)) continue;
    try {
      json.scenarios[name] = await scenarios[name]();
    } catch (error) {
      if (interrupted) await new Promise(() => {});
      console.error(`bench ${name}: ${error.stack ?? error.message}`);
      failures.push(`${name}: ${error.message}`);
      json.scenarios[name] = { error: error.message };
    }
  }
  json.failures = failures;
  console.log('');
  console.log(`BENCH_JSON ${JSON.stringify(json)}`);
  process.exitCode = failures.length > 0 ? 1 : 0;
  process.exit();
}

/** The load tools the HTTP benches drive (`--tool`). */
export const LOAD_TOOLS = ['wrk', 'autocannon'];

/**
 * Parse `--only a,b` (names from `scenarios`, when given), integer flags `--name N` / `--name=N`
 * within `limits` ({ name: [min, max] }) and flags naming one of `choices` ({ name: [...] }) over
 * `defaults`; anything else calls `usage(message)`.
 */
export function parseBenchArgs(argv, { scenarios, defaults, limits, choices = {}, usage, what = 'scenario' }) {
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = argv[i].split('=', 2);
    const take = () => (value !== undefined ? value : argv[++i]);
    const name = flag.slice(2);
    if (flag === '--help' || flag === '-h') usage();
    else if (flag === '--only' && scenarios !== undefined) {
      opts.only = String(take()).split(',');
      for (const s of opts.only) if (!scenarios.includes(s)) usage(`--only: unknown ${what} ${s}`);
    } else if (name in limits) {
      const n = Number(take());
      const [min, max] = limits[name];
      if (!Number.isInteger(n) || n < min || n > max) usage(`${flag} needs an integer in ${min}..${max}`);
      opts[name] = n;
    } else if (name in choices) {
      const choice = take();
      if (!choices[name].includes(choice)) usage(`${flag} must be ${choices[name].join(' or ')}`);
      opts[name] = choice;
    } else usage(`unknown argument ${argv[i]}`);
  }
  return opts;
}
