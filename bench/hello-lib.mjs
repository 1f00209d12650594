// bench/hello-lib.mjs: loading a hello-world server with the load tool, shared by bench/run.mjs
// (waitstate vs node:http) and bench/peers.mjs (waitstate vs the servers Node and Waitress users
// pick). Every server answers GET / with "Hello, World!".
//
// The load tool is wrk when it is on PATH, else autocannon (bench/autocannon-load.mjs); either
// runs pinned to the load core, 50 connections on one client thread, keep-alive (one request in
// flight per connection) or pipelined (16). helloLoad({tool, labels}) gives the functions bound
// to that tool: a server is {kind, port, pid, url, stats()} (stats() may resolve undefined), and
// labels maps a kind to its name in the output.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { HAVE_PROC, HERE, LOAD_CORE, ROOT, clientBound, httpGet, kernelThreads, onPath, parseWrk, pinned } from './lib.mjs';
import { rerunIfNoisy, sampledRun } from './lib.mjs';

export const CONNECTIONS = 50;
export const DEPTH = 16;
export const BODY = 'Hello, World!';
const AUTOCANNON_CEILING = 140_000; // req/s; autocannon saturates its core at ~150-155k here

// ---------------------------------------------------------------------------------------------
// Checks before loading

/** One keep-alive GET /: {status, rawHeaders, body}. */
const getOnce = (port) => httpGet(port, '/', { keepAlive: true, timeoutMs: 5000 });

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

/**
 * The load functions for one tool: `tool` is 'wrk', 'autocannon' or undefined (wrk when it is on
 * PATH); `usage(message)` is called when wrk is asked for and missing.
 */
export function helloLoad({ tool: requested, labels, usage }) {
  const haveWrk = onPath('wrk');
  const TOOL = requested ?? (haveWrk ? 'wrk' : 'autocannon');
  if (TOOL === 'wrk' && !haveWrk) usage('--tool wrk: wrk is not on PATH (apt-get install wrk)');

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

  /** One GET must answer 200 "Hello, World!", and DEPTH pipelined GETs on one connection DEPTH answers. */
  async function verify(server) {
    const label = labels[server.kind];
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

  /** Run the load tool once against `server`; measures tool, server and foreign CPU on the way. */
  async function loadOnce(scenario, server, seconds, ours) {
    const [cmd, args] = loadCommand(scenario, server.url, seconds);
    const statsBefore = await server.stats();
    const kthreads = HAVE_PROC ? kernelThreads() : [];
    // CPU of the tool, the servers and this driver, and foreign CPU, while the tool runs.
    const { code, out, pid, cpu } = await sampledRun(cmd, args, {
      name: TOOL,
      seconds,
      pidsWith: (toolPid) => [...ours, toolPid],
      cwd: ROOT,
      kthreads,
    });
    const statsAfter = await server.stats();
    const parsed = TOOL === 'wrk' ? parseWrk(out) : parseAutocannon(out);
    if (parsed === undefined || code !== 0) throw new Error(`${TOOL} failed (exit ${code}):\n${out.trim()}`);

    let loadCpu, serverCpu, foreign;
    if (cpu !== undefined) [loadCpu, serverCpu, foreign] = [cpu.pidPct(pid), cpu.pidPct(server.pid), cpu.foreign];
    const logs = {};
    if (statsBefore?.logs && statsAfter?.logs) {
      for (const level of ['error', 'warn', 'info']) logs[level] = statsAfter.logs[level] - statsBefore.logs[level];
    }
    return {
      ...parsed,
      // Servers whose app runs elsewhere (worker threads, Waitress) do not count requests.
      served: Number.isFinite(statsAfter?.requests - statsBefore?.requests) ? statsAfter.requests - statsBefore.requests : undefined,
      serverLogs: logs,
      loadCpu,
      serverCpu,
      serverUsPerReq: serverCpu !== undefined ? (serverCpu / 100 / parsed.rps) * 1e6 : undefined,
      foreign,
      flagged: parsed.non2xx > 0 || parsed.errors > 0,
    };
  }

  /**
   * loadOnce after waiting (at most quietMs; 0: no wait) for a quiet second; re-run once if other
   * processes were busy during it, unless rerun is false.
   */
  function measured(scenario, server, seconds, ours, options) {
    return rerunIfNoisy(() => loadOnce(scenario, server, seconds, ours), ours, options);
  }

  /** Why a scenario's figures may be limited by the client rather than the servers. */
  function clientBoundNotes(runs) {
    const notes = [];
    for (const run of runs) {
      const note = clientBound(run, TOOL, labels[run.server]);
      if (note !== undefined) notes.push(note);
      if (TOOL === 'autocannon' && run.rps >= AUTOCANNON_CEILING)
        notes.push(`autocannon near its ~150k req/s ceiling vs ${labels[run.server]}`);
    }
    return [...new Set(notes)];
  }

  return { tool: TOOL, toolVersion, verify, loadOnce, measured, clientBoundNotes };
}
