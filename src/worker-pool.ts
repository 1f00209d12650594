// src/worker-pool.ts: app workers in worker_threads, placed by the dispatcher machine and
// replaced when they die.
//
// Each worker imports the app by reference (src/app-ref.ts) and exposes its API through comlink
// (start-up and health); requests travel on a MessagePort of their own (src/worker-protocol.ts).
// The dispatcher machine (machines/dispatcher.ts) decides whether a submitted task runs or
// waits; this class carries out its actions. comlink never rejects calls to a dead worker
// (research/xstate-comlink.md §3.5), so worker exits are watched here: the task it was running
// gets a 500 (or, once its head is out, a closed connection) and the supervisor is told, which
// has replacements started (`replaceWorkers`); queued tasks go on when one is ready.

import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { dispatcherMachine, type DispatcherContext, type DispatcherEvent } from '../machines/dispatcher.js';
import type { SupervisorEvent } from '../machines/supervisor.js';
import type { RequestBody } from './body-buffer.js';
import { builtScript } from './built-script.js';
import { nodeEndpoint } from './comlink-node.js';
import type { RequestHead } from './http/types.js';
import type { Logger } from './options.js';
import type { ResponseParts } from './response.js';
import { MachineKind, type Driver, type MachineRuntime } from './runtime.js';
import type { RequestInfo } from './task.js';
import { forPosting, fromWorkerError, type FromWorker, type ToWorker, type WorkerApi, type WorkerData } from './worker-protocol.js';

/** At most one "tasks are waiting" warning per this many ms (Waitress warns on every task). */
const QUEUE_WARNING_INTERVAL_MS = 5_000;
/** Body chunks a worker may send ahead of what the channel has taken. */
const BODY_CHUNKS_AHEAD = 4;

const dispatcherKind = new MachineKind<DispatcherContext, DispatcherEvent>(
  dispatcherMachine.provide({
    actions: {
      runTask: ({ context, event }) => {
        if (event.type === 'task.submitted') context.shell.runTask(event.job);
      },
      enqueueTask: ({ context, event }) => {
        if (event.type === 'task.submitted') context.shell.enqueueTask(event.job);
      },
      runNextQueued: ({ context, event }) => {
        if (event.type === 'worker.free') context.shell.runNextQueued(event.worker);
      },
      markIdle: ({ context, event }) => {
        if (event.type === 'worker.free') context.shell.markIdle(event.worker);
      },
      warnQueueDepth: ({ context }) => context.shell.warnQueueDepth(),
      stopWorkers: ({ context }) => context.shell.stopWorkers(),
    },
  }),
);

/** What a task asks of the pool, and how it hears back. */
export interface JobRequest {
  head: RequestHead;
  url: string;
  /** In memory (moved to the worker with at most one copy), or spooled: only its path crosses. */
  body: RequestBody;
  info: RequestInfo;
}

export interface JobListener {
  /** The app answered; a streamed body arrives through `parts.stream`. */
  onResponse(parts: ResponseParts): void;
  /** The app failed (or its worker died) before a response head: `unsendable` when it answered something that is not a Response. */
  onFailure(error: Error, unsendable: boolean): void;
}

export class Job {
  static #nextId = 1;
  readonly id = Job.#nextId++;
  readonly request: JobRequest;
  readonly listener: JobListener;
  worker: PoolWorker | undefined;
  cancelled = false;
  headSeen = false;
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Resolves the stream's pending pull when the worker's next message for it arrives. */
  pulled: (() => void) | undefined;

  constructor(request: JobRequest, listener: JobListener) {
    this.request = request;
    this.listener = listener;
  }
}

class PoolWorker {
  static #nextIndex = 1;
  readonly index = PoolWorker.#nextIndex++;
  readonly thread: Worker;
  readonly port: MessagePort;
  readonly api: Comlink.Remote<WorkerApi>;
  job: Job | undefined;
  alive = true;
  /** Set once its app is loaded; a worker that dies before is handled by whoever started it. */
  ready = false;

  constructor(appRef: string, overrideGlobalObjects: boolean) {
    const channel = new MessageChannel();
    const data: WorkerData = { appRef, port: channel.port2, overrideGlobalObjects };
    this.thread = new Worker(builtScript('worker.js'), {
      workerData: data,
      transferList: [channel.port2],
      name: `waitstate-${this.index}`,
    });
    this.port = channel.port1;
    this.api = Comlink.wrap<WorkerApi>(nodeEndpoint(this.thread));
  }
}

export class WorkerPool {
  readonly #appRef: string;
  readonly #threads: number;
  readonly #logger: Logger;
  readonly #overrideGlobalObjects: boolean;
  readonly #machine: Driver<DispatcherEvent>;
  readonly #workers = new Set<PoolWorker>();
  readonly #idle: PoolWorker[] = [];
  readonly #queue: Job[] = [];
  #closing = false;
  /** Tells the supervisor about worker exits and failed starts. */
  #report: (event: SupervisorEvent) => void = () => {};
  #lastWarning = 0;
  #waitedSinceWarning = 0;

  constructor(appRef: string, threads: number, logger: Logger, runtime: MachineRuntime, overrideGlobalObjects: boolean) {
    this.#appRef = appRef;
    this.#threads = threads;
    this.#logger = logger;
    this.#overrideGlobalObjects = overrideGlobalObjects;
    this.#machine = dispatcherKind.start(runtime, { shell: this }, (error) => logger.error('waitstate: dispatcher failed:', error));
  }

  /** Start every worker; rejects (with every worker stopped) if the app cannot be loaded. */
  async start(): Promise<void> {
    const workers = Array.from({ length: this.#threads }, () => this.#spawn());
    try {
      await Promise.all(workers.map((worker) => this.#whenReady(worker)));
    } catch (error) {
      this.#closing = true;
      await Promise.all(workers.map((worker) => worker.thread.terminate()));
      throw error;
    }
    for (const worker of workers) this.#machine.send({ type: 'worker.free', worker, queued: this.#queue.length });
  }

  /** Where worker exits and failed starts are reported (the supervisor). */
  reportTo(report: (event: SupervisorEvent) => void): void {
    this.#report = report;
  }

  submit(request: JobRequest, listener: JobListener): Job {
    const job = new Job(request, listener);
    this.#machine.send({ type: 'task.submitted', job, idle: this.#idle.length });
    return job;
  }

  /** The client is gone: drop a queued job, or tell the worker to stop sending. */
  cancel(job: Job): void {
    if (job.cancelled) return;
    job.cancelled = true;
    const queued = this.#queue.indexOf(job);
    if (queued !== -1) {
      this.#queue.splice(queued, 1);
      return;
    }
    if (job.worker?.alive === true) job.worker.port.postMessage({ t: 'cancel', id: job.id } satisfies ToWorker);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#machine.send({ type: 'pool.closing' });
    await Promise.all([...this.#workers].map((worker) => worker.thread.terminate()));
  }

  // ---- dispatcher machine actions ------------------------------------------------------------

  runTask(job: unknown): void {
    this.#assign(this.#idle.pop()!, job as Job);
  }

  enqueueTask(job: unknown): void {
    this.#queue.push(job as Job);
  }

  runNextQueued(worker: unknown): void {
    this.#assign(worker as PoolWorker, this.#queue.shift()!);
  }

  markIdle(worker: unknown): void {
    const w = worker as PoolWorker;
    if (w.alive) this.#idle.push(w);
  }

  warnQueueDepth(): void {
    this.#waitedSinceWarning++;
    const now = Date.now();
    if (now - this.#lastWarning < QUEUE_WARNING_INTERVAL_MS) return;
    this.#logger.warn(
      `waitstate: all ${this.#threads} worker threads are busy; task queue depth is ${this.#queue.length} ` +
        `(${this.#waitedSinceWarning} tasks waited since the last warning)`,
    );
    this.#lastWarning = now;
    this.#waitedSinceWarning = 0;
  }

  stopWorkers(): void {
    for (const job of this.#queue.splice(0)) job.listener.onFailure(new Error('the server is stopping'), false);
  }

  // ---- workers -------------------------------------------------------------------------------

  #spawn(): PoolWorker {
    const worker = new PoolWorker(this.#appRef, this.#overrideGlobalObjects);
    this.#workers.add(worker);
    worker.port.on('message', (message: FromWorker) => this.#onMessage(worker, message));
    worker.thread.on('error', (error) => this.#logger.error(`waitstate: worker ${worker.index} failed:`, error));
    worker.thread.on('exit', (code) => this.#onExit(worker, code));
    return worker;
  }

  async #whenReady(worker: PoolWorker): Promise<void> {
    let onExit: (code: number) => void = () => {};
    const exited = new Promise<never>((_, reject) => {
      onExit = (code) => reject(new Error(`worker ${worker.index} exited with code ${code} while starting`));
      worker.thread.once('exit', onExit);
    });
    try {
      await Promise.race([worker.api.ready(), exited]);
    } finally {
      worker.thread.off('exit', onExit);
    }
    worker.ready = true;
  }

  #assign(worker: PoolWorker, job: Job): void {
    worker.job = job;
    job.worker = worker;
    const { head, url, body, info } = job.request;
    const moved = body instanceof Uint8Array ? forPosting(body, true) : { bytes: body, transfer: [] };
    const message: ToWorker = { t: 'request', id: job.id, head, url, body: moved.bytes, info };
    worker.port.postMessage(message, moved.transfer);
  }

  #onMessage(worker: PoolWorker, message: FromWorker): void {
    const job = worker.job;
    if (job === undefined || job.id !== message.id) return;
    if (message.t !== 'chunk' && message.last) {
      // The worker is free: give it the next task before handling this answer.
      worker.job = undefined;
      job.worker = undefined;
      this.#machine.send({ type: 'worker.free', worker, queued: this.#queue.length });
    }
    switch (message.t) {
      case 'head':
        job.headSeen = true;
        if (job.cancelled) return;
        job.listener.onResponse({
          status: message.status,
          statusText: message.statusText,
          headers: message.headers,
          body: message.body,
          stream: message.streaming ? this.#bodyStream(worker, job) : undefined,
          file: message.file,
        });
        return;
      case 'chunk':
        job.controller?.enqueue(message.bytes);
        break;
      case 'end':
        job.controller?.close();
        break;
      case 'fail': {
        const error = fromWorkerError(message.error);
        if (!job.headSeen) {
          job.headSeen = true;
          if (!job.cancelled) job.listener.onFailure(error, message.unsendable);
        } else {
          job.controller?.error(error);
        }
        break;
      }
      case 'done':
        return;
    }
    const pulled = job.pulled;
    job.pulled = undefined;
    pulled?.();
  }

  /** The response body as a stream that asks the worker for one chunk per pull. */
  #bodyStream(worker: PoolWorker, job: Job): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          job.controller = controller;
        },
        pull: () =>
          new Promise<void>((resolve) => {
            job.pulled = resolve;
            if (worker.alive) worker.port.postMessage({ t: 'pull', id: job.id } satisfies ToWorker);
          }),
        cancel: () => this.cancel(job),
      },
      new CountQueuingStrategy({ highWaterMark: BODY_CHUNKS_AHEAD }),
    );
  }

  #onExit(worker: PoolWorker, code: number): void {
    worker.alive = false;
    this.#workers.delete(worker);
    const idleAt = this.#idle.indexOf(worker);
    if (idleAt !== -1) this.#idle.splice(idleAt, 1);
    if (this.#closing || !worker.ready) return;
    const job = worker.job;
    worker.job = undefined;
    this.#logger.error(
      `waitstate: worker ${worker.index} exited with code ${code}${job ? ' while running a task' : ''}; starting a replacement`,
    );
    if (job !== undefined && !job.cancelled) {
      const error = new Error(`the worker running this request exited with code ${code}`);
      if (!job.headSeen) {
        job.headSeen = true;
        job.listener.onFailure(error, false);
      } else {
        job.controller?.error(error);
        job.pulled?.();
      }
    }
    this.#report({ type: 'worker.exited' });
  }

  /** Start workers until the pool has `threads` again (asked by the supervisor). */
  replaceWorkers(): void {
    while (!this.#closing && this.#workers.size < this.#threads) {
      const worker = this.#spawn();
      this.#whenReady(worker).then(
        () => this.#machine.send({ type: 'worker.free', worker, queued: this.#queue.length }),
        (error: unknown) => {
          this.#logger.error(`waitstate: replacement worker ${worker.index} did not start:`, error);
          void worker.thread.terminate();
          this.#report({ type: 'worker.failed-to-start' });
        },
      );
    }
  }
}
