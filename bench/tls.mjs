#!/usr/bin/env node
// bench/tls.mjs: waitstate vs node:https, hello world over TLS, keep-alive requests per second.
//
//   npm run bench:tls                  (= npm run build && node bench/tls.mjs)
//   node bench/tls.mjs [--rounds N] [--seconds S] [--warmup S] [--tool wrk|autocannon]
//   BENCH_PORT=19000 node bench/tls.mjs   (ports used: BENCH_PORT and BENCH_PORT+1; default 18280)
//
// WHAT IT MEASURES. Two servers answer GET / with the same 13-byte "Hello, World!" over HTTPS,
// each in its own process (bench/tls-server.mjs), with the same certificate: an ECDSA P-256 one
// that openssl makes for the run (the kind certbot issues by default). waitstate is serve() with
// examples/hello/app.mjs inline and `tls`; node:https is a bare createServer. One scenario: 50
// connections on one client thread, one request in flight per connection (wrk -t1 -c50, or
// autocannon -c 50), after the handshakes: what a busy keep-alive client costs. The handshake is
// OpenSSL's in both (the same engine), so it is not what this compares.
//
// METHOD, pinning, the quiet-machine gate and the noise flags are bench/run.mjs's (bench/hello-lib.mjs):
// servers on core 0, the load tool on core 1; rounds alternate which server goes first; the table
// shows medians. The default, 3 rounds x 5 s after a 2 s warm-up each, takes about a minute.
// "ratio" = waitstate median / node:https median, from the same run.
//
// Exit status: 0 when every run completed, 1 when openssl is missing, a server did not start or
// answer, or a tool failed; 130 on Ctrl-C. Child processes are killed on every exit path.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BODY, CONNECTIONS, helloLoad } from './hello-lib.mjs';
import { BUSY_CLIENT_CPU, HERE, LOAD_CORE, LOAD_TOOLS, PINNED, SATURATED_CPU, SERVER_CORE, cleanups, int, median } from './lib.mjs';
import { onPath, parseBenchArgs, pct, pinSelf, runBench, spawnServer, table } from './lib.mjs';

const LABEL = { waitstate: 'waitstate', node: 'node:https' };
const SERVERS = ['waitstate', 'node'];
const SCENARIO = { name: 'keep-alive', depth: 1 };

function usage(message) {
  if (message) console.error(`bench: ${message}`);
  console.error('usage: node bench/tls.mjs [--rounds N] [--seconds S] [--warmup S] [--tool wrk|autocannon]');
  process.exit(message ? 1 : 0);
}

const opts = parseBenchArgs(process.argv.slice(2), {
  defaults: { rounds: 3, seconds: 5, warmup: 2, tool: undefined },
  limits: { rounds: [1, 3600], seconds: [1, 3600], warmup: [0, 3600] },
  choices: { tool: LOAD_TOOLS },
  usage,
});
const BASE_PORT = Number(process.env.BENCH_PORT ?? 18280);
if (!Number.isInteger(BASE_PORT) || BASE_PORT < 1 || BASE_PORT > 65534) usage('BENCH_PORT must be a port number');
if (!onPath('openssl')) usage('openssl is not on PATH (apt-get install openssl): it makes the certificate');
const { tool: TOOL, toolVersion, measured, loadOnce } = helloLoad({ tool: opts.tool, labels: LABEL, usage });
// wrk does not check the certificate; autocannon (a child process, which inherits this) has no option to trust one.
if (TOOL === 'autocannon') process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
pinSelf(LOAD_CORE);

/** A certificate for 127.0.0.1, valid for a day, in a temp directory removed on exit. */
function certificate() {
  const dir = mkdtempSync(join(tmpdir(), 'waitstate-bench-tls-'));
  cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
  const ecdsa = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  execFileSync('openssl', ['req', '-x509', ...ecdsa, '-nodes', '-days', '1', ...subject, '-keyout', key, '-out', cert], {
    stdio: 'ignore',
  });
  return { cert, key };
}

async function startServer(kind, port, files) {
  const server = await spawnServer({
    port,
    args: [join(HERE, 'tls-server.mjs'), kind, String(port), files.cert, files.key],
    label: LABEL[kind],
    cores: SERVER_CORE,
    readyMs: 15_000,
    statsMs: 2000,
    notStarted: `${LABEL[kind]} server did not start on port ${port} (see its messages above)`,
  });
  return { kind, port, pid: server.pid, url: `https://127.0.0.1:${port}/`, stats: server.stats, stop: server.stop };
}

/** One GET / over HTTPS, trusting the run's certificate, must answer 200 "Hello, World!" over http/1.1. */
function verify(server, ca) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/', ca, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (part) => (body += part));
      res.on('end', () => {
        const alpn = res.socket.alpnProtocol;
        if (res.statusCode !== 200 || body !== BODY)
          reject(new Error(`${LABEL[server.kind]} answered ${res.statusCode} ${JSON.stringify(body)}`));
        else {
          console.error(`  ${LABEL[server.kind].padEnd(10)} ok: 200 "${BODY}" over ${res.socket.getProtocol()}, ALPN ${alpn || 'none'}`);
          resolve();
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${LABEL[server.kind]}: no answer in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function main() {
  console.error(
    `bench:tls: ${TOOL} ${toolVersion()}, Node ${process.version}, ${opts.rounds} round(s) x ${opts.seconds} s per server ` +
      `(warm-up ${opts.warmup} s), ${CONNECTIONS} connections, keep-alive over TLS`,
  );
  console.error(PINNED ? `bench:tls: servers on core ${SERVER_CORE}, load on core ${LOAD_CORE}` : 'bench:tls: not pinned');
  const files = certificate();
  const ca = readFileSync(files.cert);
  const servers = {};
  for (const [i, kind] of SERVERS.entries()) servers[kind] = await startServer(kind, BASE_PORT + i, files);
  const ours = new Set([process.pid, ...Object.values(servers).map((s) => s.pid)]);
  for (const kind of SERVERS) await verify(servers[kind], ca);
  for (const kind of SERVERS) {
    if (opts.warmup > 0) await loadOnce(SCENARIO, servers[kind], opts.warmup, ours);
  }
  const runs = [];
  for (let round = 1; round <= opts.rounds; round++) {
    for (const kind of round % 2 ? SERVERS : [...SERVERS].reverse()) {
      const run = await measured(SCENARIO, servers[kind], opts.seconds, ours);
      Object.assign(run, { round, server: kind });
      runs.push(run);
      console.error(
        `  round ${round}  ${LABEL[kind].padEnd(10)} ${int(run.rps).padStart(9)} req/s  srv CPU ${pct(run.serverCpu)}, ` +
          `load CPU ${pct(run.loadCpu)}, foreign ${pct(run.foreign)}` +
          (run.flagged ? `  ! non-2xx ${run.non2xx}, errors ${run.errors}` : ''),
      );
    }
  }
  for (const kind of SERVERS) await servers[kind].stop();

  const med = Object.fromEntries(SERVERS.map((kind) => [kind, median(runs.filter((r) => r.server === kind).map((r) => r.rps))]));
  const ratio = med.waitstate / med.node;
  console.log('');
  console.log(
    `waitstate vs node:https, hello world over TLS, ${TOOL} ${toolVersion()}, ${CONNECTIONS} connections, median of ${opts.rounds} x ${opts.seconds} s`,
  );
  console.log('');
  console.log(
    table(
      ['scenario', 'waitstate req/s', 'node:https req/s', 'ratio'],
      [[SCENARIO.name, int(med.waitstate), int(med.node), `${ratio.toFixed(2)}x`]],
    ),
  );
  console.log('');
  const rows = runs.map((r) => [
    String(r.round),
    LABEL[r.server],
    int(r.rps) + (r.flagged ? '!' : '') + (r.noisy ? '*' : ''),
    pct(r.serverCpu),
    pct(r.loadCpu),
  ]);
  console.log(table(['round', 'server', 'req/s', 'srv CPU', 'load CPU'], rows));
  const notes = [];
  const flagged = runs.filter((r) => r.flagged || r.noisy);
  if (flagged.length > 0) notes.push(`${flagged.length} run(s) marked ! (errors) or * (other processes busy during the run)`);
  for (const r of runs) {
    if (r.serverCpu < SATURATED_CPU && r.loadCpu < BUSY_CLIENT_CPU) {
      notes.push(
        `round ${r.round} ${LABEL[r.server]}: neither the server (${pct(r.serverCpu)}) nor ${TOOL} (${pct(r.loadCpu)}) saturated its core: ` +
          'other load on the cores? Treat the figure as noise.',
      );
    }
  }
  if (notes.length > 0) console.log(`\nnotes:\n${notes.map((note) => `  - ${note}`).join('\n')}`);
  console.log(
    `BENCH_JSON ${JSON.stringify({ tool: TOOL, node: process.version, pinned: PINNED, rounds: opts.rounds, seconds: opts.seconds, medians: med, ratio })}`,
  );
}

await runBench(main, 'bench:tls');
