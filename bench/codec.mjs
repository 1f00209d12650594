// bench/codec.mjs: what the sans-I/O codec costs per call, to compare two builds of it.
//
// Four cases, each a tight loop over one input: parseHead on a browser-like GET head and on a
// small curl-like head, ChunkedDecoder on a few-chunk body (an extension and a trailer field
// included), and readProxyHeaders on a head with X-Forwarded-For and X-Forwarded-Proto. Each
// directory on the command line is a built src/http (default: ../dist/src/http from this file);
// with two, the second is compared with the first: each round runs every case on both (which goes
// first alternates), and the table shows the median ns/op over rounds and the median over rounds
// of new/old. Each build runs in worker threads of its own (see below). On a machine shared with
// other work, identical builds read within about ±4%.
//
// Run (this build against another commit's):
//   git worktree add /tmp/codec-base <base-commit> && ln -s "$PWD/node_modules" /tmp/codec-base/
//   (cd /tmp/codec-base && npx tsc -p tsconfig.build.json) && npm run build
//   node bench/codec.mjs /tmp/codec-base/dist/src/http dist/src/http
// Options: --rounds N (default 10), --ms N per case, round and worker (default 10), --isolates N
// workers per build (default 3). About 4 s with two builds.

import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const LIMITS = { maxHeaderBytes: 262144, maxBodyBytes: 1073741824 };
const BROWSER_HEAD = Buffer.from(
  [
    'GET /articles/2024/some-page?ref=home&utm_source=news HTTP/1.1',
    'Host: www.example.com',
    'Connection: keep-alive',
    'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
    'sec-ch-ua-mobile: ?0',
    'sec-ch-ua-platform: "Linux"',
    'Upgrade-Insecure-Requests: 1',
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
    'Sec-Fetch-Site: same-origin',
    'Sec-Fetch-Mode: navigate',
    'Sec-Fetch-User: ?1',
    'Sec-Fetch-Dest: document',
    'Referer: https://www.example.com/',
    'Accept-Encoding: gzip, deflate, br, zstd',
    'Accept-Language: en-GB,en;q=0.9,fr;q=0.8',
    'Cookie: session=3f2a9c1e7b; theme=dark; consent=yes',
    '',
    '',
  ].join('\r\n'),
  'latin1',
);
const CURL_HEAD = Buffer.from('GET /health HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n', 'latin1');
const CHUNKED_BODY = Buffer.from(
  '1a\r\nabcdefghijklmnopqrstuvwxyz\r\n10;name=value\r\n0123456789abcdef\r\n5\r\nhello\r\n40\r\n' +
    'x'.repeat(64) +
    '\r\n0\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n',
  'latin1',
);
const PROXIED_HEADERS = [
  'host',
  'internal.example:8080',
  'user-agent',
  'curl/8.5.0',
  'accept',
  '*/*',
  'x-forwarded-for',
  '203.0.113.7, 10.0.0.2',
  'x-forwarded-proto',
  'https',
];
const PROXY_TRUST = { count: 1, headers: new Set(['x-forwarded-for', 'x-forwarded-proto']) };

/** The cases for one build: each runs `n` calls and returns a number that depends on them all. */
async function casesOf(dir) {
  const url = (file) => pathToFileURL(`${dir}/${file}`).href;
  const { parseHead } = await import(url('head.js'));
  const { ChunkedDecoder } = await import(url('chunked.js'));
  const { readProxyHeaders } = await import(url('proxy-headers.js'));
  const head = (buf) => (n) => {
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const r = parseHead(buf, 0, LIMITS);
      sum += r.kind === 'head' ? r.consumed : -1;
    }
    return sum;
  };
  const out = [];
  return {
    'parseHead browser GET': head(BROWSER_HEAD),
    'parseHead curl GET': head(CURL_HEAD),
    'ChunkedDecoder 4 chunks': (n) => {
      let sum = 0;
      for (let k = 0; k < n; k++) {
        out.length = 0;
        const r = new ChunkedDecoder(LIMITS.maxBodyBytes, 4096).decode(CHUNKED_BODY, 0, CHUNKED_BODY.length, out);
        sum += r.kind === 'done' ? r.consumed + out.length : -1;
      }
      return sum;
    },
    'readProxyHeaders XFF+XFP': (n) => {
      let sum = 0;
      for (let k = 0; k < n; k++) {
        const r = readProxyHeaders(PROXIED_HEADERS, PROXY_TRUST, true, 'http');
        sum += r.kind === 'applied' ? r.headers.length : -1;
      }
      return sum;
    },
  };
}

// Each build runs in worker threads of its own, three by default: each has its own heap and its
// own JIT, so neither build's calls shape how the other's are compiled, and the luck of one
// isolate's compilation (inlining differs from run to run) averages out over several. A worker
// answers { name, n } with { ns, answer }: CPU ns per call (process CPU time, as only one worker
// runs at a time; it leaves out the time other work on the machine takes the core away), and a
// number that depends on every call's result.
if (!isMainThread) {
  const cases = await casesOf(workerData.dir);
  parentPort.on('message', ({ name, n }) => {
    if (name === undefined) return parentPort.postMessage(Object.keys(cases));
    const before = process.cpuUsage();
    const answer = cases[name](n);
    const used = process.cpuUsage(before);
    parentPort.postMessage({ ns: ((used.user + used.system) * 1000) / n, answer });
  });
} else {
  await compare(parseArgs(process.argv.slice(2)));
}

function parseArgs(args) {
  const opts = { rounds: 10, ms: 10, isolates: 3, dirs: [] };
  const usage = (status) => {
    console.error('usage: node bench/codec.mjs [old-dist-http-dir] [new-dist-http-dir] [--rounds N] [--ms N] [--isolates N]');
    process.exit(status);
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i].slice(2);
    if (args[i] === '--help' || args[i] === '-h') usage(0);
    else if (args[i].startsWith('--') && flag !== 'dirs' && flag in opts) opts[flag] = Number(args[++i]);
    else if (args[i].startsWith('-')) usage(2);
    else opts.dirs.push(resolve(args[i]));
  }
  if (opts.dirs.length === 0) opts.dirs.push(resolve(dirname(fileURLToPath(import.meta.url)), '../dist/src/http'));
  if (opts.dirs.length > 2 || ![opts.rounds, opts.ms, opts.isolates].every((n) => Number.isInteger(n) && n > 0)) usage(2);
  return opts;
}

async function compare(opts) {
  const { median, table } = await import('./lib.mjs');
  const builds = opts.dirs.map((dir) =>
    Array.from({ length: opts.isolates }, () => new Worker(new URL(import.meta.url), { workerData: { dir } })),
  );
  const workers = builds.flat();
  const ask = (worker, message) =>
    new Promise((resolveAnswer, reject) => {
      worker.once('message', resolveAnswer);
      worker.once('error', reject);
      worker.postMessage(message);
    }).finally(() => worker.removeAllListeners('error'));
  const names = await ask(workers[0], {});

  // Every build must give the same answer before anything is timed.
  for (const name of names) {
    const answers = await Promise.all(workers.map(async (w) => (await ask(w, { name, n: 1 })).answer));
    if (answers.some((a) => a !== answers[0] || a < 0)) throw new Error(`${name}: the builds disagree or fail: ${answers.join(' vs ')}`);
  }

  // Warm-up (about 30 ms per case and worker, so the JIT has settled), then calls per timed run
  // so that one run takes about `opts.ms`.
  const calls = {};
  for (const name of names) {
    let n = 100;
    for (let ns = 0; ns * n < 3e7; n *= 2) for (const w of workers) ns = (await ask(w, { name, n })).ns;
    calls[name] = Math.max(1, Math.round((opts.ms * 1e6) / (await ask(workers[0], { name, n })).ns));
  }

  // samples[build][name][round]: mean ns per call over the build's workers in that round.
  const samples = builds.map(() => Object.fromEntries(names.map((name) => [name, []])));
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 === 0 ? builds.map((_, b) => b) : builds.map((_, b) => b).reverse();
    for (const name of names) {
      for (const b of order) {
        let sum = 0;
        for (const w of builds[b]) sum += (await ask(w, { name, n: calls[name] })).ns;
        samples[b][name].push(sum / builds[b].length);
      }
    }
  }
  await Promise.all(workers.map((w) => w.terminate()));

  const two = builds.length === 2;
  const ns = (x) => x.toFixed(1);
  const rows = names.map((name) => {
    const med = samples.map((s) => median(s[name]));
    if (!two) return [name, ns(med[0])];
    // A round's runs of the two builds are close in time: their ratio shrugs off load that comes
    // and goes on the machine better than a ratio of medians would.
    const ratio = median(samples[0][name].map((old, round) => samples[1][name][round] / old));
    return [name, ns(med[0]), ns(med[1]), ratio.toFixed(3)];
  });
  console.log(opts.dirs.map((d, b) => `${two ? ['old', 'new'][b] : 'build'}: ${d}`).join('\n'));
  console.log(
    `median CPU ns per call over ${opts.rounds} rounds; a round runs each case for about ${opts.ms} ms in each of ${opts.isolates} workers per build\n`,
  );
  console.log(table(two ? ['case', 'old ns/op', 'new ns/op', 'new/old'] : ['case', 'ns/op'], rows));
}
