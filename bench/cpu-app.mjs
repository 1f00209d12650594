// bench/cpu-app.mjs: the app for the "CPU-bound route vs cheap route" scenario of bench/workers.mjs.
//
//   GET /cpu    burns CPU_ITERS iterations of an FNV-1a-style hash loop (synchronously), then
//               answers 200 with the hash; bench/workers.mjs calibrates CPU_ITERS to ~20 ms on
//               this machine and passes it through the environment (worker threads inherit it).
//   GET /cheap  (and anything else) answers 200 "cheap" at once.
//
// Used as a module reference by waitstate (threads 4: `/abs/bench/cpu-app.mjs:app`, each worker
// imports it) and imported by the node:http peer in bench/workers-server.mjs (burn() inline).

/** The busy loop: `iters` rounds of xor + multiply; returns the hash so V8 cannot drop it. */
export function burn(iters) {
  let h = 0x811c9dc5;
  for (let i = 0; i < iters; i++) {
    h ^= i & 0xff;
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** Iterations that take about `ms` milliseconds here (median of 5 timed runs after warm-up). */
export function calibrate(ms = 20) {
  burn(2_000_000); // warm up / optimize
  let iters = 1_000_000;
  const time = (n) => {
    const t = performance.now();
    burn(n);
    return performance.now() - t;
  };
  while (time(iters) < 5) iters *= 2;
  const samples = [];
  for (let i = 0; i < 5; i++) samples.push(time(iters));
  samples.sort((a, b) => a - b);
  return Math.round((iters * ms) / samples[2]);
}

export const CPU_ITERS = Number(process.env.CPU_ITERS) > 0 ? Number(process.env.CPU_ITERS) : calibrate(20);

export function app(request) {
  if (request.url.endsWith('/cpu')) return new Response(String(burn(CPU_ITERS)));
  return new Response('cheap');
}
