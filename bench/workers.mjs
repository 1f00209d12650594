#!/usr/bin/env node
// bench/workers.mjs: worker threads, CPU-bound routes, big bodies and idle connections.
//
//   npm run build && node bench/workers.mjs [--seconds S] [--rounds N] [--warmup S]
//       [--only hello,cpu,transfer,idle] [--idle N] [--transfer-mib N] [--transfer-timeout S]
//   BENCH_PORT=19000 node bench/workers.mjs   (ports BENCH_PORT .. BENCH_PORT+8; default 18280)
//   (there is no npm script for it: package.json is left alone)
//
// Files: workers.mjs (this driver), workers-server.mjs (every server, one process each),
// cpu-app.mjs (/cpu ~20 ms busy loop, /cheap), stream-app.mjs (1 GiB up/down, fileResponse),
// lib.mjs and server-lib.mjs (helpers shared with bench/run.mjs and its servers).
//
// SCENARIOS (each prints a table; the last line, BENCH_JSON {...}, holds all figures).
//
// 1. hello: worker threads vs inline. waitstate threads=4 (examples/hello/app.mjs:app by module
//    reference) vs threads=0 (same app), wrk -t1 -c50 keep-alive; also threads=4 with
//    dispatchWindow=1 (a task goes to a thread only when it is free, as in Waitress), to show what
//    the window buys. Servers (all their threads)
//    pinned to core 0, wrk to core 1, as in bench/run.mjs; warm-up, then interleaved rounds
//    (the server that goes first alternates), medians. "ratio" = workers / inline; target >= 0.5.
//    Each run waits (<= 5 s) for a quiet second and records "foreign" CPU (other processes, % of
//    one core, from /proc/stat minus kernel threads minus ours); >= 5 % is re-run once, and marked
//    * if still noisy.
//
// 2. cpu: CPU-bound route vs cheap route. /cpu burns ~20 ms of synchronous CPU (calibrated here at
//    start, passed to the servers as CPU_ITERS); /cheap answers at once. wrk -t1 -c8 hammers /cpu
//    while this driver sends sequential GET /cheap on one keep-alive connection and records every
//    latency (p50 / p99 / max). waitstate threads=4 (bench/cpu-app.mjs:app) vs node:http doing the
//    same work inline. NOT pinned (workers need the second core): server, wrk and driver share
//    both cores, so figures are noisier. "ratio" = waitstate cheap p99 / node:http cheap p99 (lower
//    is better for waitstate). /cpu req/s is wrk's count; with 2 cores it cannot exceed ~100.
//    A run during which other processes used >= 5 % of a core is marked * (not re-run).
//
// 3. transfer: 1 GiB upload and download, peak RSS. A fresh server process per case, so VmHWM
//    (peak resident set, /proc/PID/status) is that case's peak (it includes start-up). Cases:
//    upload (POST 1 GiB with Content-Length, the app counts bytes with `for await` over
//    request.body), download (a ReadableStream of 64 KiB chunks), file (fileResponse of a 1 GiB
//    sparse temp file, deleted afterwards); same routes on node:http for reference. This driver is
//    the client (core 1, server core 0), streams as fast as it can, discards what it reads, and
//    gives up after --transfer-timeout s (default 60). Target: waitstate peak RSS < 150 MB.
//    Note: waitstate buffers a request body before the app runs (beyond inbufOverflow, 512 KiB, to
//    a temp file), so the upload time includes writing 1 GiB to disk; node:http streams it.
//
// 4. idle: 10,000 idle keep-alive connections. Opened by this driver in batches of 250, each
//    sends one GET / and reads the answer, then stays open and idle; bounded by 90 s. Server RSS
//    (VmRSS) before (after one request and 1 s) and 2 s after the last one is open; per-connection
//    = difference / connections open. waitstate with connectionLimit and backlog 20000; node:http
//    with keepAliveTimeout 120 s (its default 5 s would close them). Needs ~10,100 file
//    descriptors in this process (checked; the count is lowered with a note if the limit is less).
//
// HOW TO READ IT. Compare within one run; this 2-vCPU box drifts +-15 % between runs. A "!"
// marks a run with non-2xx answers, socket errors, a short transfer or a failed connection.
//
// Exit status: 0 when every scenario ran (whatever the figures), 1 on a setup failure or bad
// arguments, 130 on Ctrl-C. Child processes are killed on every exit path; every wait is bounded.

import { closeSync, createReadStream, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { calibrate } from './cpu-app.mjs';
import { CLK_TCK, HERE, LOAD_CORE, PINNED, SERVER_CORE, cpuTicks, fdLimit, memory, onPath, pinSelf, pinned } from './lib.mjs';
import { FOREIGN_LIMIT, cleanups, httpGet, parseWrk, parseBenchArgs, runScenarios, sampledRun, spawnServer, waitForQuiet } from './lib.mjs';
import { int, mb, median, pct, quantile, table } from './lib.mjs';

const ALL = ['hello', 'cpu', 'transfer', 'idle'];

// ---------------------------------------------------------------------------------------------
// Arguments

function usage(message) {
  if (message) console.error(`bench: ${message}`);
  console.error(
    'usage: node bench/workers.mjs [--seconds S] [--rounds N] [--warmup S] [--only hello,cpu,transfer,idle] ' +
      '[--idle N] [--transfer-mib N] [--transfer-timeout S]',
  );
  process.exit(message ? 1 : 0);
}

const opts = parseBenchArgs(process.argv.slice(2), {
  scenarios: ALL,
  defaults: { seconds: 5, rounds: 3, warmup: 2, only: ALL, idle: 10_000, 'transfer-mib': 1024, 'transfer-timeout': 60 },
  limits: {
    seconds: [1, 600],
    rounds: [1, 50],
    warmup: [0, 60],
    idle: [1, 50_000],
    'transfer-mib': [1, 8192],
    'transfer-timeout': [1, 600],
  },
  usage,
});
const BASE_PORT = Number(process.env.BENCH_PORT ?? 18280);
if (!Number.isInteger(BASE_PORT) || BASE_PORT < 1 || BASE_PORT > 65527) usage('BENCH_PORT must be a port number');

// ---------------------------------------------------------------------------------------------
// Environment: pinning, /proc

if (!onPath('wrk') && (opts.only.includes('hello') || opts.only.includes('cpu'))) usage('wrk is not on PATH (hello and cpu need it)');
const ALL_CORES = `0-${availableParallelism() - 1}`;

// ---------------------------------------------------------------------------------------------
// Servers

const LABEL = {
  'ws-hello-inline': 'waitstate threads=0',
  'ws-hello-threads': 'waitstate threads=4',
  'ws-hello-window1': 'threads=4 window=1',
  'ws-cpu-threads': 'waitstate threads=4',
  'node-cpu': 'node:http',
  'ws-stream': 'waitstate threads=0',
  'node-stream': 'node:http',
  'ws-idle': 'waitstate threads=0',
  'node-idle': 'node:http',
};

/** Start bench/workers-server.mjs KIND PORT (on `cores`, if given); resolves once it listens. */
async function startServer(kind, port, { cores, env = {} } = {}) {
  const server = await spawnServer({
    port,
    args: [join(HERE, 'workers-server.mjs'), kind, String(port)],
    label: LABEL[kind],
    cores,
    env,
    readyMs: 20_000,
    statsMs: 3000,
    notStarted: `${LABEL[kind]} (${kind}) did not start on port ${port} (see its messages above)`,
  });
  return { kind, port, pid: server.pid, url: `http://127.0.0.1:${port}`, stats: server.stats, stop: server.stop };
}

/** One GET on a fresh connection: {status, body}; rejects after 10 s. */
const get = (port, path) => httpGet(port, path, { keepAlive: false, timeoutMs: 10_000 });

async function expect200(server, path) {
  const res = await get(server.port, path);
  if (res.status !== 200) throw new Error(`${LABEL[server.kind]} answered ${res.status} to GET ${path}`);
  return res;
}

// ---------------------------------------------------------------------------------------------
// wrk

/** Run wrk (on `cores`, if given); measures CPU of `pids` and foreign CPU during the run. */
async function wrk(args, { cores, pids = [] } = {}) {
  const [cmd, argv] = pinned(cores, 'wrk', args);
  const seconds = Number(/^-d(\d+)s$/.exec(args.find((a) => a.startsWith('-d')))?.[1] ?? 10);
  const { code, out, pid, cpu } = await sampledRun(cmd, argv, {
    name: 'wrk',
    seconds,
    pidsWith: (wrkPid) => [process.pid, wrkPid, ...pids],
  });
  const parsed = parseWrk(out);
  if (parsed === undefined || code !== 0) throw new Error(`wrk failed (exit ${code}):\n${out.trim()}`);
  return {
    ...parsed,
    loadCpu: cpu?.pidPct(pid),
    cpu: Object.fromEntries(pids.map((pid) => [pid, cpu?.pidPct(pid)])),
    foreign: cpu?.foreign,
    flagged: parsed.errors > 0 || parsed.non2xx > 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting

const ms = (n) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(2));

function print(title, header, rows, notes = []) {
  console.log('');
  console.log(title);
  console.log('');
  console.log(table(header, rows, /^[\d,.%x*!<>= -]+$/));
  if (notes.length > 0) console.log(`notes:\n${notes.map((n) => `  - ${n}`).join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// 1. hello: worker threads vs inline

async function helloScenario() {
  const kinds = ['ws-hello-threads', 'ws-hello-inline', 'ws-hello-window1'];
  const ports = { 'ws-hello-threads': BASE_PORT, 'ws-hello-inline': BASE_PORT + 1, 'ws-hello-window1': BASE_PORT + 8 };
  pinSelf(LOAD_CORE);
  console.error(
    `bench hello: wrk -t1 -c50, ${opts.rounds} x ${opts.seconds} s, warm-up ${opts.warmup} s; ${PINNED ? `servers on core ${SERVER_CORE}, wrk on core ${LOAD_CORE}` : 'not pinned'}`,
  );
  const servers = {};
  try {
    for (const kind of kinds) servers[kind] = await startServer(kind, ports[kind], { cores: SERVER_CORE });
    for (const kind of kinds) {
      const res = await expect200(servers[kind], '/');
      if (res.body !== 'Hello, World!') throw new Error(`${LABEL[kind]} answered ${JSON.stringify(res.body)}`);
    }
    const ours = [process.pid, ...Object.values(servers).map((s) => s.pid)];
    const run = (kind, seconds) =>
      wrk(['-t1', '-c50', `-d${seconds}s`, `${servers[kind].url}/`], { cores: LOAD_CORE, pids: [servers[kind].pid] });
    if (opts.warmup > 0) for (const kind of kinds) await run(kind, opts.warmup);
    const runs = [];
    for (let round = 1; round <= opts.rounds; round++) {
      for (const kind of round % 2 ? kinds : [...kinds].reverse()) {
        await waitForQuiet(ours);
        let r = await run(kind, opts.seconds);
        if (r.foreign >= FOREIGN_LIMIT) {
          console.error(`    (other processes used ${pct(r.foreign)} of a core during the run: re-running it once)`);
          await waitForQuiet(ours);
          const again = await run(kind, opts.seconds);
          if (again.foreign < r.foreign) r = again;
          r.rerun = true;
        }
        r.serverCpu = r.cpu[servers[kind].pid];
        Object.assign(r, { round, kind, noisy: r.foreign >= FOREIGN_LIMIT });
        runs.push(r);
        console.error(
          `  round ${round} ${LABEL[kind].padEnd(20)} ${int(r.rps).padStart(8)} req/s  srv CPU ${pct(r.serverCpu)}, wrk ${pct(r.loadCpu)}, foreign ${pct(r.foreign)}`,
        );
      }
    }
    const med = Object.fromEntries(kinds.map((k) => [k, median(runs.filter((r) => r.kind === k).map((r) => r.rps))]));
    const ratio = med['ws-hello-threads'] / med['ws-hello-inline'];
    const rows = runs.map((r) => [
      String(r.round),
      LABEL[r.kind],
      int(r.rps) + (r.flagged ? '!' : '') + (r.noisy ? '*' : ''),
      pct(r.serverCpu),
      pct(r.loadCpu),
      `${(r.foreign ?? 0).toFixed(1)}%`,
      int(r.non2xx),
      int(r.errors),
    ]);
    rows.push(['median', LABEL['ws-hello-threads'], int(med['ws-hello-threads']), '', '', '', '', '']);
    rows.push(['median', LABEL['ws-hello-inline'], int(med['ws-hello-inline']), '', '', '', '', '']);
    rows.push(['median', LABEL['ws-hello-window1'], int(med['ws-hello-window1']), '', '', '', '', '']);
    const notes = [];
    for (const r of runs.filter((x) => x.flagged))
      notes.push(`round ${r.round} ${LABEL[r.kind]}: ${r.non2xx} non-2xx, ${r.socketErrors ?? ''}`);
    for (const r of runs.filter((x) => x.noisy))
      notes.push(`round ${r.round} ${LABEL[r.kind]}: other processes used ${pct(r.foreign)} of a core (*)`);
    print(
      `1. hello, worker threads vs inline: wrk -t1 -c50 keep-alive, ${opts.rounds} x ${opts.seconds} s, servers ${PINNED ? 'pinned to core 0 (all threads), wrk on core 1' : 'NOT pinned'}\n` +
        `   ratio workers/inline = ${ratio.toFixed(2)}x (target >= 0.5x): ${ratio >= 0.5 ? 'meets target' : 'BELOW TARGET'}; ` +
        `with dispatchWindow=1 (Waitress's one task per thread) ${(med['ws-hello-window1'] / med['ws-hello-inline']).toFixed(2)}x`,
      ['round', 'server', 'req/s', 'srv CPU', 'wrk CPU', 'foreign', 'non-2xx', 'errors'],
      rows,
      notes,
    );
    return {
      threads4: { median: med['ws-hello-threads'], rounds: runs.filter((r) => r.kind === 'ws-hello-threads').map((r) => r.rps) },
      inline: { median: med['ws-hello-inline'], rounds: runs.filter((r) => r.kind === 'ws-hello-inline').map((r) => r.rps) },
      window1: { median: med['ws-hello-window1'], rounds: runs.filter((r) => r.kind === 'ws-hello-window1').map((r) => r.rps) },
      ratio,
      target: 0.5,
      meetsTarget: ratio >= 0.5,
      runs: runs.map(({ round, kind, rps, requests, non2xx, errors, serverCpu, loadCpu, foreign, noisy, rerun }) => ({
        round,
        kind,
        rps,
        requests,
        non2xx,
        errors,
        serverCpu,
        loadCpu,
        foreign,
        noisy,
        rerun: rerun ?? false,
      })),
    };
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. cpu: CPU-bound route vs cheap route, cheap-route latency

/** Sequential GET `path` on one keep-alive connection until `untilMs` (performance.now()); latencies in ms. */
async function sequentialLatencies(port, path, untilMs) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  let errors = 0;
  let non2xx = 0;
  try {
    while (performance.now() < untilMs && errors < 100) {
      const t0 = performance.now();
      try {
        const status = await new Promise((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path, agent, timeout: 10_000 }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
            res.on('error', reject);
          });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', reject);
          req.end();
        });
        latencies.push(performance.now() - t0);
        if (status < 200 || status > 299) non2xx++;
      } catch {
        errors++;
      }
    }
  } finally {
    agent.destroy();
  }
  return { latencies, errors, non2xx };
}

async function cpuScenario() {
  pinSelf(ALL_CORES);
  const iters = calibrate(20);
  const env = { CPU_ITERS: String(iters) };
  const kinds = ['ws-cpu-threads', 'node-cpu'];
  const ports = { 'ws-cpu-threads': BASE_PORT + 2, 'node-cpu': BASE_PORT + 3 };
  console.error(
    `bench cpu: /cpu = ${iters.toLocaleString('en-US')} iterations (~20 ms calibrated); wrk -t1 -c8 on /cpu + sequential /cheap; NOT pinned`,
  );
  const servers = {};
  try {
    for (const kind of kinds) servers[kind] = await startServer(kind, ports[kind], { env });
    // Check and time /cpu alone (unloaded): the calibration as the server sees it.
    const alone = {};
    for (const kind of kinds) {
      await expect200(servers[kind], '/cheap');
      const t = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await expect200(servers[kind], '/cpu');
        t.push(performance.now() - t0);
      }
      alone[kind] = median(t);
    }
    const ours = [process.pid, ...Object.values(servers).map((s) => s.pid)];
    const run = async (kind, seconds) => {
      const server = servers[kind];
      const load = wrk(['-t1', '-c8', `-d${seconds}s`, `${server.url}/cpu`], { pids: [server.pid] });
      await sleep(300); // let the 8 clients get going
      const probe = await sequentialLatencies(server.port, '/cheap', performance.now() + seconds * 1000 - 600);
      const r = await load;
      const sorted = [...probe.latencies].sort((a, b) => a - b);
      return {
        kind,
        cpuRps: r.rps,
        cpuRequests: r.requests,
        cpuNon2xx: r.non2xx,
        cpuErrors: r.errors,
        serverCpu: r.cpu[server.pid],
        wrkCpu: r.loadCpu,
        foreign: r.foreign,
        cheap: {
          n: sorted.length,
          p50: quantile(sorted, 0.5),
          p99: quantile(sorted, 0.99),
          max: sorted.at(-1),
          errors: probe.errors,
          non2xx: probe.non2xx,
        },
      };
    };
    if (opts.warmup > 0) for (const kind of kinds) await run(kind, Math.max(opts.warmup, 2));
    const runs = [];
    for (let round = 1; round <= opts.rounds; round++) {
      for (const kind of round % 2 ? kinds : [...kinds].reverse()) {
        await waitForQuiet(ours);
        const r = await run(kind, opts.seconds);
        r.round = r.round ?? round;
        r.flagged = r.cpuNon2xx > 0 || r.cpuErrors > 0 || r.cheap.errors > 0 || r.cheap.non2xx > 0;
        r.noisy = r.foreign >= FOREIGN_LIMIT;
        runs.push(r);
        console.error(
          `  round ${round} ${LABEL[kind].padEnd(20)} /cpu ${r.cpuRps.toFixed(1)} req/s; /cheap n=${r.cheap.n} p50 ${ms(r.cheap.p50)} p99 ${ms(r.cheap.p99)} max ${ms(r.cheap.max)} ms; srv CPU ${pct(r.serverCpu)}, foreign ${pct(r.foreign)}`,
        );
      }
    }
    const med = (kind, f) => median(runs.filter((r) => r.kind === kind).map(f));
    const p99 = Object.fromEntries(kinds.map((k) => [k, med(k, (r) => r.cheap.p99)]));
    const ratio = p99['ws-cpu-threads'] / p99['node-cpu'];
    const rows = runs.map((r) => [
      String(r.round),
      LABEL[r.kind],
      r.cpuRps.toFixed(1) + (r.flagged ? '!' : '') + (r.noisy ? '*' : ''),
      int(r.cheap.n),
      ms(r.cheap.p50),
      ms(r.cheap.p99),
      ms(r.cheap.max),
      pct(r.serverCpu),
      pct(r.wrkCpu),
      `${(r.foreign ?? 0).toFixed(1)}%`,
      `${r.cpuNon2xx + r.cheap.non2xx}/${r.cpuErrors + r.cheap.errors}`,
    ]);
    for (const k of kinds)
      rows.push([
        'median',
        LABEL[k],
        med(k, (r) => r.cpuRps).toFixed(1),
        int(med(k, (r) => r.cheap.n)),
        ms(med(k, (r) => r.cheap.p50)),
        ms(p99[k]),
        ms(med(k, (r) => r.cheap.max)),
        '',
        '',
        '',
        '',
      ]);
    print(
      `2. CPU-bound route vs cheap route: wrk -t1 -c8 on /cpu (~20 ms CPU each: ${iters.toLocaleString('en-US')} iterations; alone: ` +
        `waitstate ${ms(alone['ws-cpu-threads'])} ms, node:http ${ms(alone['node-cpu'])} ms per /cpu) while one client sends sequential /cheap\n` +
        `   NOT pinned: server, worker threads, wrk and the /cheap client share all ${availableParallelism()} cores. ${opts.rounds} x ${opts.seconds} s.\n` +
        `   cheap p99 ratio waitstate/node:http = ${ratio.toFixed(3)}x (lower is better for waitstate)`,
      ['round', 'server', '/cpu req/s', '/cheap n', 'p50 ms', 'p99 ms', 'max ms', 'srv CPU', 'wrk CPU', 'foreign', 'non2xx/err'],
      rows,
      [
        ...runs
          .filter((r) => r.flagged)
          .map(
            (r) =>
              `round ${r.round} ${LABEL[r.kind]}: non-2xx or errors (wrk ${r.cpuNon2xx}/${r.cpuErrors}, /cheap ${r.cheap.non2xx}/${r.cheap.errors})`,
          ),
        ...runs
          .filter((r) => r.noisy)
          .map(
            (r) =>
              `round ${r.round} ${LABEL[r.kind]}: other processes used ${pct(r.foreign)} of a core during the run (*; not re-run): on 2 cores this skews both /cpu req/s and /cheap latency.`,
          ),
        ...runs
          .filter((r) => r.cheap.n < 100)
          .map(
            (r) =>
              `round ${r.round} ${LABEL[r.kind]}: only ${r.cheap.n} /cheap samples, so p99 is (nearly) the max; use more --seconds for a real p99.`,
          ),
      ],
    );
    return {
      iterations: iters,
      cpuAloneMs: { waitstate: alone['ws-cpu-threads'], node: alone['node-cpu'] },
      pinned: false,
      cheapP99: { waitstate: p99['ws-cpu-threads'], node: p99['node-cpu'] },
      ratio,
      runs,
    };
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. transfer: 1 GiB up and down, peak RSS

const BLOCK = Buffer.alloc(64 * 1024, 0x61);

/** POST `bytes` with Content-Length; resolves {ok, sent, seconds, answer, status, error}. */
function upload(port, bytes, timeoutMs) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let sent = 0;
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ sent, seconds: (performance.now() - t0) / 1000, ...r });
    };
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/upload',
        method: 'POST',
        agent: false,
        headers: { 'content-length': String(bytes), 'content-type': 'application/octet-stream' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => finish({ status: res.statusCode, answer: body, ok: res.statusCode === 200 && Number(body) === bytes }));
        res.on('error', (e) => finish({ ok: false, error: e.message }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`timeout after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    req.on('error', (e) => finish({ ok: false, error: e.message }));
    const write = () => {
      while (sent < bytes) {
        const n = Math.min(BLOCK.length, bytes - sent);
        sent += n;
        if (!req.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

/** GET `path`, read and discard; resolves {ok, received, seconds, status, error}. */
function download(port, path, bytes, timeoutMs) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let received = 0;
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ received, seconds: (performance.now() - t0) / 1000, ...r });
    };
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.on('data', (c) => (received += c.length));
      res.on('end', () => finish({ status: res.statusCode, ok: res.statusCode === 200 && received === bytes }));
      res.on('error', (e) => finish({ ok: false, status: res.statusCode, error: e.message }));
    });
    const timer = setTimeout(() => req.destroy(new Error(`timeout after ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('error', (e) => finish({ ok: false, error: e.message }));
    req.end();
  });
}

async function transferScenario() {
  pinSelf(LOAD_CORE);
  const bytes = opts['transfer-mib'] * 1024 * 1024;
  const timeoutMs = opts['transfer-timeout'] * 1000;
  const dir = mkdtempSync(join(tmpdir(), 'waitstate-bench-'));
  const file = join(dir, 'sparse.bin');
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  cleanups.add(removeDir);
  const fd = openSync(file, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  // The first read of a fresh sparse file is ~7x slower (the kernel fills the page cache):
  // read it once here so the first server measured is not the one that pays for it.
  for await (const _chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }));
  const env = { STREAM_BYTES: String(bytes), BENCH_FILE: file };
  const cases = [
    { name: 'upload', run: (port) => upload(port, bytes, timeoutMs) },
    { name: 'download stream', run: (port) => download(port, '/download', bytes, timeoutMs) },
    { name: 'download file', run: (port) => download(port, '/file', bytes, timeoutMs) },
  ];
  const kinds = ['ws-stream', 'node-stream'];
  const ports = { 'ws-stream': BASE_PORT + 4, 'node-stream': BASE_PORT + 5 };
  console.error(
    `bench transfer: ${opts['transfer-mib']} MiB per case, ${opts['transfer-timeout']} s limit; a fresh server per case; ${PINNED ? 'server core 0, client core 1' : 'not pinned'}`,
  );
  const results = [];
  try {
    for (const c of cases) {
      for (const kind of kinds) {
        const server = await startServer(kind, ports[kind], { cores: SERVER_CORE, env });
        try {
          await sleep(500);
          const before = memory(server.pid);
          let peakRss = before?.rss ?? 0;
          const sampler = setInterval(() => {
            const m = memory(server.pid);
            if (m) peakRss = Math.max(peakRss, m.rss);
          }, 50);
          const cpu0 = cpuTicks(server.pid);
          const r = await c.run(server.port);
          clearInterval(sampler);
          const cpu1 = cpuTicks(server.pid);
          const after = memory(server.pid);
          const moved = c.name === 'upload' ? r.sent : r.received;
          const row = {
            case: c.name,
            kind,
            ok: r.ok,
            status: r.status,
            error: r.error,
            bytes: moved,
            seconds: r.seconds,
            mbPerSec: moved / 1e6 / r.seconds,
            serverCpuSeconds: (cpu1 - cpu0) / CLK_TCK,
            rssBefore: before?.rss,
            peakRssSampled: peakRss,
            vmHWM: after?.hwm,
            rssAfter: after?.rss,
            answer: r.answer,
          };
          results.push(row);
          console.error(
            `  ${c.name.padEnd(15)} ${LABEL[kind].padEnd(20)} ${r.ok ? 'ok' : `FAILED (${r.status ?? '-'} ${r.error ?? ''}${r.answer !== undefined ? ` answer ${JSON.stringify(r.answer.slice(0, 60))}` : ''})`} ` +
              `${mb(moved)} MB in ${r.seconds.toFixed(2)} s; VmHWM ${mb(after?.hwm)} MB`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    removeDir();
    cleanups.delete(removeDir);
  }
  const rows = results.map((r) => [
    r.case,
    LABEL[r.kind],
    (r.ok ? 'ok' : 'FAILED!') + (r.error ? ` (${r.error})` : ''),
    mb(r.bytes),
    r.seconds.toFixed(2),
    int(r.mbPerSec),
    r.serverCpuSeconds.toFixed(2),
    mb(r.rssBefore),
    mb(r.peakRssSampled),
    mb(r.vmHWM),
    r.kind === 'ws-stream' ? (r.vmHWM < 150e6 ? 'yes' : 'NO') : '',
  ]);
  print(
    `3. ${opts['transfer-mib']} MiB upload / download, server peak RSS (MB = 10^6 bytes): a fresh server per case, ${PINNED ? 'server on core 0, client (this driver) on core 1' : 'not pinned'}\n` +
      `   VmHWM = kernel's peak resident set since the process started (includes start-up); "peak sampled" = max VmRSS every 50 ms`,
    ['case', 'server', 'result', 'MB moved', 'seconds', 'MB/s', 'srv CPU s', 'RSS idle MB', 'peak sampled MB', 'VmHWM MB', '< 150 MB'],
    rows,
    [
      'upload: waitstate reads the whole body before the app runs (past inbufOverflow = 512 KiB into a temp file), so its time includes the disk write; node:http hands the app the stream.',
    ],
  );
  return { bytes, timeoutSeconds: opts['transfer-timeout'], targetBytes: 150e6, results };
}

// ---------------------------------------------------------------------------------------------
// 4. idle: 10,000 keep-alive connections

/** Connect, send one GET /, read the whole hello answer; resolves the socket (left open) or an Error. */
function openOne(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => fail(new Error('no answer in 15 s')), 15_000);
    const fail = (e) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(e);
    };
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    socket.on('data', (chunk) => {
      text += chunk;
      if (text.includes('Hello, World!')) {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        socket.on('data', () => {});
        resolve(/^HTTP\/1\.1 200/.test(text) ? socket : new Error(text.slice(0, 40)));
      }
    });
    socket.on('error', (e) => fail(e));
    socket.on('close', () => fail(new Error('closed before the answer')));
  });
}

async function idleScenario() {
  pinSelf(LOAD_CORE);
  const limit = fdLimit();
  let count = opts.idle;
  const notes = [];
  if (limit !== undefined && limit < count + 200) {
    count = Math.max(1, limit - 200);
    notes.push(
      `this process may open only ${limit} files: ${count} connections instead of ${opts.idle} (raise it: bash -c 'ulimit -n 65536; node bench/workers.mjs ...').`,
    );
  }
  const BATCH = 250;
  const BUDGET_MS = 90_000;
  const kinds = ['ws-idle', 'node-idle'];
  const ports = { 'ws-idle': BASE_PORT + 6, 'node-idle': BASE_PORT + 7 };
  console.error(`bench idle: ${count} connections in batches of ${BATCH}, at most ${BUDGET_MS / 1000} s; fd limit ${limit ?? '?'}`);
  const results = [];
  for (const kind of kinds) {
    const server = await startServer(kind, ports[kind], { cores: SERVER_CORE });
    const sockets = [];
    try {
      await expect200(server, '/');
      await sleep(1000);
      const before = memory(server.pid);
      const t0 = performance.now();
      let failed = 0;
      const errorKinds = {};
      while (sockets.length + failed < count && performance.now() - t0 < BUDGET_MS) {
        const n = Math.min(BATCH, count - sockets.length - failed);
        const batch = await Promise.all(Array.from({ length: n }, () => openOne(server.port)));
        for (const s of batch) {
          if (s instanceof Error) {
            failed++;
            errorKinds[s.code ?? s.message] = (errorKinds[s.code ?? s.message] ?? 0) + 1;
          } else sockets.push(s);
        }
        if (failed > count / 10) break;
      }
      const openSeconds = (performance.now() - t0) / 1000;
      await sleep(2000);
      const after = memory(server.pid);
      const stats = await server.stats();
      const stillOpen = sockets.filter((s) => !s.destroyed).length;
      const r = {
        kind,
        wanted: count,
        opened: sockets.length,
        failed,
        errorKinds,
        stillOpenClient: stillOpen,
        serverConnections: stats?.connections,
        openSeconds,
        rssBefore: before?.rss,
        rssAfter: after?.rss,
        vmHWM: after?.hwm,
        perConnection: (after?.rss - before?.rss) / stillOpen,
      };
      results.push(r);
      console.error(
        `  ${LABEL[kind].padEnd(20)} opened ${sockets.length}/${count} in ${openSeconds.toFixed(1)} s (failed ${failed}); RSS ${mb(r.rssBefore)} -> ${mb(r.rssAfter)} MB; ${int(r.perConnection)} B/conn`,
      );
      if (failed > 0) notes.push(`${LABEL[kind]}: ${failed} connection(s) failed: ${JSON.stringify(errorKinds)}`);
      if (sockets.length + failed < count) notes.push(`${LABEL[kind]}: stopped after ${BUDGET_MS / 1000} s with ${sockets.length} open.`);
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  }
  const rows = results.map((r) => [
    LABEL[r.kind],
    `${int(r.opened)}/${int(r.wanted)}` + (r.failed > 0 ? '!' : ''),
    int(r.stillOpenClient),
    int(r.serverConnections),
    r.openSeconds.toFixed(1),
    mb(r.rssBefore),
    mb(r.rssAfter),
    mb(r.vmHWM),
    int(r.perConnection),
  ]);
  const w = results.find((r) => r.kind === 'ws-idle');
  const n = results.find((r) => r.kind === 'node-idle');
  print(
    `4. ${count} idle keep-alive connections (one GET / each, then idle), RSS 2 s after the last one opened; ${PINNED ? 'server core 0, client core 1' : 'not pinned'}\n` +
      `   per connection: waitstate ${int(w?.perConnection)} B, node:http ${int(n?.perConnection)} B, ratio ${(w?.perConnection / n?.perConnection).toFixed(2)}x (no GC forced: includes garbage not yet collected)`,
    ['server', 'opened', 'open (client)', 'server conns', 'open s', 'RSS before MB', 'RSS after MB', 'VmHWM MB', 'bytes/conn'],
    rows,
    notes,
  );
  return { count, fdLimit: limit, batch: BATCH, results, notes };
}

// ---------------------------------------------------------------------------------------------

const json = {
  node: process.version,
  cores: availableParallelism(),
  pinned: PINNED,
  seconds: opts.seconds,
  rounds: opts.rounds,
  warmup: opts.warmup,
  scenarios: {},
};
const SCENARIOS = { hello: helloScenario, cpu: cpuScenario, transfer: transferScenario, idle: idleScenario };
await runScenarios(json, SCENARIOS, ALL, opts.only);
