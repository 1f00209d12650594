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
  /** Resolves the body pump's wait for the next `pull`. */
  wake: (() => void) | undefined;
  credit: number;
}
const jobs = new Map<number, Job>();

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

port.on('message', (message: ToWorker) => {
  if (message.t === 'request') {
    const job: Job = { cancelled: false, wake: undefined, credit: 0 };
    jobs.set(message.id, job);
    void run(message, job).finally(() => {
      jobs.delete(message.id);
      post({ t: 'done', id: message.id });
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
    post({ t: 'fail', id, error: toWorkerError(error), unsendable: false });
    return;
  }
  const parts = readResponse(result);
  if (typeof parts === 'string') {
    post({ t: 'fail', id, error: { name: 'TypeError', message: parts, stack: undefined }, unsendable: true });
    return;
  }
  const { status, statusText, headers, body, stream } = parts;
  if (job.cancelled) {
    stream?.cancel().catch(() => {});
    return;
  }
  if (body instanceof Uint8Array) {
    const moved = forPosting(body, false);
    post({ t: 'head', id, status, statusText, headers, body: moved.bytes, streaming: false }, moved.transfer);
  } else {
    post({ t: 'head', id, status, statusText, headers, body, streaming: stream !== undefined });
  }
  if (stream !== undefined) await pump(id, job, stream);
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
        post({ t: 'end', id });
        return;
      }
      if (!(value instanceof Uint8Array)) throw new TypeError('a response body chunk is not a Uint8Array');
      if (value.byteLength === 0) continue;
      job.credit--;
      const moved = forPosting(value, false);
      post({ t: 'chunk', id, bytes: moved.bytes }, moved.transfer);
    }
  } catch (error) {
    post({ t: 'fail', id, error: toWorkerError(error), unsendable: false });
  }
}
