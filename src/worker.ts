// src/worker.ts: a worker thread running the app (one task at a time, given by the dispatcher).
//
// The worker never touches a socket: it gets a complete request over its MessagePort, runs the
// app, and sends the response back: the head with a known body in one message, or the head and
// then body chunks, one per `pull` from the main thread (so a slow client slows the app's stream
// only once the main thread has buffered outbuf_high_watermark of it). See worker-protocol.ts.

import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { loadAppRef } from './app-ref.js';
import { nodeEndpoint } from './comlink-node.js';
import { IncomingRequest } from './request.js';
import { installLiteResponse, readResponse } from './response.js';
import type { FetchHandler } from './task.js';
import { forPosting, toWorkerError, type FromWorker, type ToWorker, type WorkerApi, type WorkerData } from './worker-protocol.js';

const data = workerData as WorkerData;
const port = data.port;
if (data.overrideGlobalObjects) installLiteResponse();

const loading: Promise<FetchHandler> = loadAppRef(data.appRef, '/').then((app) =>
  typeof app === 'function' ? app : (request, info) => app.fetch(request, info),
);
// Keep a rejected load from becoming an unhandled rejection before ready() is called.
loading.catch(() => {});

const api: WorkerApi = {
  async ready() {
    await loading;
  },
  ping: () => 'pong',
};
Comlink.expose(api, nodeEndpoint(parentPort!));

interface Job {
  cancelled: boolean;
  /** A message marked `last` went out: the main thread knows the worker is free. */
  finished: boolean;
  /** Resolves the body pump's wait for the next `pull`. */
  wake: (() => void) | undefined;
  credit: number;
}
const jobs = new Map<number, Job>();

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function finish(job: Job, message: FromWorker & { last: true }, transfer: ArrayBuffer[] = []): void {
  job.finished = true;
  post(message, transfer);
}

port.on('message', (message: ToWorker) => {
  if (message.t === 'request') {
    const job: Job = { cancelled: false, finished: false, wake: undefined, credit: 0 };
    jobs.set(message.id, job);
    void run(message, job).finally(() => {
      jobs.delete(message.id);
      if (!job.finished) post({ t: 'done', id: message.id, last: true });
    });
    return;
  }
  const job = jobs.get(message.id);
  if (job === undefined) return;
  if (message.t === 'pull') job.credit++;
  else job.cancelled = true;
  job.wake?.();
});

async function run(message: Extract<ToWorker, { t: 'request' }>, job: Job): Promise<void> {
  const { id } = message;
  let result: unknown;
  try {
    const app = await loading;
    result = await app(new IncomingRequest(message.head, message.url, message.body) as unknown as Request, message.info);
  } catch (error) {
    finish(job, { t: 'fail', id, error: toWorkerError(error), unsendable: false, last: true });
    return;
  }
  const parts = readResponse(result);
  if (typeof parts === 'string') {
    finish(job, { t: 'fail', id, error: { name: 'TypeError', message: parts, stack: undefined }, unsendable: true, last: true });
    return;
  }
  const { status, statusText, headers, body, stream, file } = parts;
  if (job.cancelled) {
    stream?.cancel().catch(() => {});
    return;
  }
  if (stream !== undefined) {
    post({ t: 'head', id, status, statusText, headers, body: null, streaming: true, file: undefined, last: false });
    await pump(id, job, stream);
  } else if (body instanceof Uint8Array) {
    const moved = forPosting(body, false);
    finish(
      job,
      { t: 'head', id, status, statusText, headers, body: moved.bytes, streaming: false, file: undefined, last: true },
      moved.transfer,
    );
  } else {
    finish(job, { t: 'head', id, status, statusText, headers, body, streaming: false, file, last: true });
  }
}

async function pump(id: number, job: Job, stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) {
      while (job.credit === 0 && !job.cancelled) await new Promise<void>((resolve) => (job.wake = resolve));
      job.wake = undefined;
      if (job.cancelled) {
        await reader.cancel();
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        finish(job, { t: 'end', id, last: true });
        return;
      }
      if (!(value instanceof Uint8Array)) throw new TypeError('a response body chunk is not a Uint8Array');
      if (value.byteLength === 0) continue;
      job.credit--;
      const moved = forPosting(value, false);
      post({ t: 'chunk', id, bytes: moved.bytes }, moved.transfer);
    }
  } catch (error) {
    finish(job, { t: 'fail', id, error: toWorkerError(error), unsendable: false, last: true });
  }
}
