// The worker pool with dispatch windows (src/workers/pool.ts), driven directly so that several
// tasks are submitted in one turn and their placement is known: the least loaded worker gets
// each, and a worker holds up to `dispatchWindow` of them.
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestBody } from '../../src/fetch/body-buffer.js';
import type { ResponseParts } from '../../src/fetch/read-response.js';
import { WorkerPool, type Job } from '../../src/workers/pool.js';
import { recordingLogger } from '../helpers/raw-client.js';
import { head } from '../machines/fixtures.js';
import type { ConnectionInfo } from '../../src/app.js';

const APP = `${process.cwd()}/test/fixtures/worker-app.mjs:app`;
const INFO: ConnectionInfo = {
  remoteAddress: '127.0.0.1',
  remotePort: 1,
  urlScheme: 'http',
  scriptName: '',
  serverName: 'localhost',
  serverPort: 80,
};

interface Outcome {
  status: number;
  text: string;
  at: number;
}

let pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  pools = [];
});

async function startPool(threads: number, window: number, concurrency = 1000): Promise<{ pool: WorkerPool; lines: string[] }> {
  const logger = recordingLogger();
  const pool = new WorkerPool(APP, { threads, window, concurrency }, logger, 'compiled', true);
  // What the supervisor does when a worker exits.
  pool.reportTo((event) => {
    if (event.type === 'worker.exited') pool.replaceWorkers();
  });
  await pool.start();
  pools.push(pool);
  return { pool, lines: logger.lines };
}

/** Submit a GET of `path`; the promise settles with the response text or the failure. */
function submit(pool: WorkerPool, path: string): { job: Job; outcome: Promise<Outcome> } {
  let job!: Job;
  const outcome = new Promise<Outcome>((resolve) => {
    job = pool.submit(
      { head: { ...head({ kind: 'none' }), method: 'GET', target: path }, url: `http://a${path}`, body: null as RequestBody, info: INFO },
      {
        onResponse: (parts: ResponseParts) => {
          const body = new Response(parts.stream ?? parts.body).text();
          void body.then((text) => resolve({ status: parts.status, text, at: Date.now() }));
        },
        onFailure: (error) => resolve({ status: 500, text: error.message, at: Date.now() }),
        onUpgrade: () => resolve({ status: 101, text: '', at: Date.now() }),
      },
    );
  });
  return { job, outcome };
}

const threadOf = (o: Outcome) => JSON.parse(o.text).thread as number;

describe('a worker is an event loop', () => {
  it('runs tasks that await at the same time, on one thread', async () => {
    const { pool } = await startPool(1, 8);
    const started = Date.now();
    const runs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => submit(pool, `/slow?ms=300&n=${n}`).outcome));
    expect(runs.every((r) => r.status === 200)).toBe(true);
    // Ten 300 ms waits together, not one after another (3 s).
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a task that awaits does not hold its worker: a task behind it runs at once', async () => {
    const { pool } = await startPool(1, 8);
    const slow = submit(pool, '/slow?ms=700&n=slow');
    const probe = submit(pool, '/slow?ms=1&n=probe');
    const [s, p] = await Promise.all([slow.outcome, probe.outcome]);
    expect(p.at).toBeLessThan(s.at - 300);
  });

  it('threadConcurrency bounds the tasks in progress on a worker; the others wait, in arrival order', async () => {
    const { pool, lines } = await startPool(1, 8, 2);
    const first = [0, 1, 2, 3, 4].map((n) => submit(pool, `/slow?ms=150&n=${n}`).outcome);
    // A moment's queue is not worth a warning...
    expect(lines.filter((l) => /task queue depth/.test(l))).toEqual([]);
    await new Promise((r) => setTimeout(r, 120));
    // ...one whose oldest task has waited 100 ms is.
    const last = submit(pool, '/slow?ms=1&n=5').outcome;
    const runs = (await Promise.all([...first, last])).map((o) => JSON.parse(o.text) as { start: number; end: number; n: string });
    for (const run of runs) {
      expect(runs.filter((other) => other.start <= run.start && run.start < other.end).length).toBeLessThanOrEqual(2);
    }
    expect([...runs].sort((a, b) => a.start - b.start).map((r) => r.n)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(
      lines.filter((l) =>
        /warn: .*thread_concurrency \(2\) requests in progress; task queue depth is 4, the oldest waiting 1\d\d ms/.test(l),
      ),
    ).toHaveLength(1);
  });

  it('a CPU-bound task keeps others off its worker: with a window of 1 they go to the other', async () => {
    const { pool } = await startPool(2, 1);
    const cpu = submit(pool, '/cpu?ms=500&n=cpu');
    const probes = [submit(pool, '/cpu?ms=1&n=a'), submit(pool, '/cpu?ms=1&n=b')];
    const [c, ...done] = await Promise.all([cpu.outcome, ...probes.map((probe) => probe.outcome)]);
    for (const d of done) {
      expect(threadOf(d)).not.toBe(threadOf(c));
      expect(d.at).toBeLessThan(c.at - 200);
    }
  });
});

describe('slots', () => {
  it('a cancelled task frees its slot at once, even when the app never settles', async () => {
    const { pool } = await startPool(1, 8, 1);
    const hung = submit(pool, '/hang');
    await new Promise((r) => setTimeout(r, 50));
    const next = submit(pool, '/hello');
    // The only slot is taken: the next task waits...
    expect(await Promise.race([next.outcome, new Promise((r) => setTimeout(() => r('waiting'), 200))])).toBe('waiting');
    // ...until the hung one's client goes.
    pool.cancel(hung.job);
    expect((await next.outcome).text).toMatch(/^hello from thread/);
  });

  it('abort (the client half-closed) aborts request.signal in the worker, still delivers the answer, and frees the slot', async () => {
    const { pool } = await startPool(1, 8, 1);
    const waiting = submit(pool, '/signal?ms=3000');
    await new Promise((r) => setTimeout(r, 50));
    const next = submit(pool, '/hello');
    pool.abort(waiting.job);
    expect((await waiting.outcome).text).toBe('aborted');
    expect((await next.outcome).status).toBe(200);
  });

  it('a task cancelled in the turn it was submitted is never answered, and frees its slot', async () => {
    const { pool } = await startPool(1, 8, 1);
    const cancelled = submit(pool, '/slow?ms=1&n=cancelled');
    pool.cancel(cancelled.job);
    const next = submit(pool, '/slow?ms=1&n=next');
    const settled = await Promise.race([cancelled.outcome, new Promise((r) => setTimeout(() => r('never'), 500))]);
    expect(settled).toBe('never');
    expect(JSON.parse((await next.outcome).text).n).toBe('next');
  });

  it('handler_timeout on a worker stuck in one turn terminates it; the replacement serves the next task', async () => {
    const { pool, lines } = await startPool(1, 8);
    const spin = submit(pool, '/spin');
    await new Promise((r) => setTimeout(r, 200));
    pool.cancel(spin.job, true);
    expect((await submit(pool, '/hello').outcome).text).toMatch(/^hello from thread/);
    expect(lines.some((l) => /busy with one turn for longer than handler_timeout; terminating it/.test(l))).toBe(true);
  });
});

describe('a worker that exits', () => {
  it('fails only the task it ran; the ones given to it that never started run on its replacement', async () => {
    const { pool, lines } = await startPool(1, 8);
    const exit = submit(pool, '/exit');
    const after = [submit(pool, '/hello'), submit(pool, '/hello')];
    const failed = await exit.outcome;
    expect(failed.status).toBe(500);
    expect(failed.text).toMatch(/exited with code 3/);
    for (const o of await Promise.all(after.map((a) => a.outcome))) {
      expect(o.status).toBe(200);
      expect(o.text).toMatch(/^hello from thread/);
    }
    expect(lines.filter((l) => /exited with code 3 while running a task/.test(l))).toHaveLength(1);
  });

  it('fails every task it had started, awaiting ones included', async () => {
    const { pool, lines } = await startPool(1, 8);
    const waiting = submit(pool, '/slow?ms=2000&n=waiting');
    await new Promise((r) => setTimeout(r, 100));
    const exit = submit(pool, '/exit');
    const [w, e] = await Promise.all([waiting.outcome, exit.outcome]);
    expect([w.status, e.status]).toEqual([500, 500]);
    expect(lines.some((l) => /exited with code 3 while running 2 tasks/.test(l))).toBe(true);
  });
});
