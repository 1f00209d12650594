// bench/autocannon-load.mjs: one autocannon run in its own process (so bench/run.mjs can pin it
// to a core with taskset and read its CPU time), through autocannon's programmatic API.
//
//   node bench/autocannon-load.mjs URL CONNECTIONS PIPELINING SECONDS
//
// Prints one line: RESULT {"requests":..,"seconds":..,"non2xx":..,"errors":..,"timeouts":..,...}

import autocannon from 'autocannon';

const [url, connections, pipelining, seconds] = process.argv.slice(2);
if (url === undefined || !(Number(connections) > 0) || !(Number(pipelining) > 0) || !(Number(seconds) > 0)) {
  console.error('usage: node bench/autocannon-load.mjs URL CONNECTIONS PIPELINING SECONDS');
  process.exit(2);
}

const result = await autocannon({
  url,
  connections: Number(connections),
  pipelining: Number(pipelining),
  duration: Number(seconds),
});

const summary = {
  requests: result.requests.total, // completed responses
  seconds: result.duration,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  resets: result.resets,
  mismatches: result.mismatches,
  statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
};
process.stdout.write(`RESULT ${JSON.stringify(summary)}\n`);
