// The worker pool with dispatch windows (src/worker-pool.ts), driven directly so that several
// tasks are submitted in one turn and their placement is known: the least loaded worker gets
// each, and a worker holds up to `dispatchWindow` of them.
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestBody } from '../../src/body-buffer.js';
import type { ResponseParts } from '../../src/response.js';
import type { RequestInfo } from '../../src/task.js';
import { WorkerPool, type Job } from '../../src/worker-pool.js';
import { recordingLogger } from '../helpers/raw-client.js';
import { head } from '../machines/fixtures.js';

const APP = `${process.cwd()}/test/fixtures/worker-app.mjs:app`;
const INFO: RequestInfo = {
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

async function startPool(threads: number, window: number): Promise<{ pool: WorkerPool; lines: string[] }> {
  const logger = recordingLogger();
  const pool = new WorkerPool(APP, threads, window, logger, 'compiled', true);
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
      },
    );
  });
  return { job, outcome };
}

const threadOf = (o: Outcome) => JSON.parse(o.text).thread as number;

describe('dispatch windows', () => {
  it('a worker whose task waits on a timer hands back the task queued behind it', async () => {
    const { pool } = await startPool(2, 8);
    // Same turn: slow → worker 1 (empty), hello → worker 2 (empty), probe → worker 1 (tie, first).
    const slow = submit(pool, '/slow?ms=700&n=slow');
    const hello = submit(pool, '/hello');
    const probe = submit(pool, '/slow?ms=1&n=probe');
    const [s, h, p] = await Promise.all([slow.outcome, hello.outcome, probe.outcome]);
    expect(h.status).toBe(200);
    // The probe did not wait for the slow task: it ran on the other worker.
    expect(p.at).toBeLessThan(s.at - 300);
    expect(threadOf(p)).not.toBe(threadOf(s));
  });

  it('with a window of 1 the queued task waits in the pool, not behind a busy worker', async () => {
    const { pool } = await startPool(2, 1);
    const slow = submit(pool, '/slow?ms=500&n=slow');
    const probes = [submit(pool, '/slow?ms=1&n=a'), submit(pool, '/slow?ms=1&n=b')];
    const [s, ...done] = await Promise.all([slow.outcome, ...probes.map((probe) => probe.outcome)]);
    for (const d of done) {
      expect(threadOf(d)).not.toBe(threadOf(s));
      expect(d.at).toBeLessThan(s.at - 200);
    }
  });

  it('a worker that exits fails only the task it ran; the ones waiting behind it run on its replacement', async () => {
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

  it('a task cancelled while it waits in a window never runs, and frees its slot', async () => {
    const { pool } = await startPool(1, 8);
    const slow = submit(pool, '/slow?ms=300&n=slow');
    const cancelled = submit(pool, '/slow?ms=1&n=cancelled');
    pool.cancel(cancelled.job);
    const next = submit(pool, '/slow?ms=1&n=next');
    const settled = await Promise.race([cancelled.outcome, new Promise((r) => setTimeout(() => r('never'), 800))]);
    expect(settled).toBe('never');
    expect(JSON.parse((await next.outcome).text).n).toBe('next');
    await slow.outcome;
  });
});
