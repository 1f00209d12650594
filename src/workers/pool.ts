// src/workers/pool.ts: app workers in worker_threads, placed by the dispatcher machine and
// replaced when they die.
//
// Each worker imports the app by reference (src/app-ref.ts) and exposes its API through comlink
// (start-up: ready()); requests travel on a MessagePort of their own (src/workers/protocol.ts).
// The dispatcher machine (machines/dispatcher.ts) decides whether a submitted task runs or
// waits; this class carries out its actions and counts each worker's slots:
//
//   given ──────────────────────────────────────────────▶ answered (a message marked `last`)
//     │ unacked: not yet past its first turn                 │
//     │ (waiting to start, or running synchronously)        │
//     └── acknowledged (`awaiting`) ── still in progress ────┘
//   load: given, not answered, and still wanted by a client that has not left
//
// A worker has room while unacked < the dispatch window (a CPU-bound task keeps others off its
// worker) and load < threadConcurrency (an event loop runs many awaiting tasks). A task whose
// client leaves, or whose handler_timeout passes, gives its slot back at once, whether or not
// the app ever settles. comlink never rejects calls to a dead worker (its promises just never
// settle), so worker exits are watched here: the tasks it had started get a 500 (or, once their
// head is out, a closed connection), the ones it had not go to another worker, and the supervisor
// is told, which has replacements started (`replaceWorkers`).

import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { dispatcherMachine, type DispatcherContext, type DispatcherEvent } from '../../machines/dispatcher.js';
import type { SupervisorEvent } from '../../machines/supervisor.js';
import type { RequestBody } from '../fetch/body-buffer.js';
import { builtScript } from '../built-script.js';
import { nodeEndpoint } from './comlink-node.js';
import type { RequestHead } from '../http/types.js';
import type { Logger } from '../config/options.js';
import type { ResponseParts } from '../fetch/read-response.js';
import type { MachineRuntime } from '../config/options.js';
import { RunnableMachine, type RunningMachine, type InspectionObserver } from '../runtime/machine.js';
import { forPosting, fromWorkerError, packRequest, type FromWorker, type ToWorker, type WorkerApi, type WorkerData } from './protocol.js';
import type { ConnectionInfo } from '../app.js';
import { ServerClosingError, WorkerExitedError } from '../errors.js';
import type { Takeover } from '../websocket/hub.js';
import { portTakeover } from '../websocket/port-link.js';

/** At most one "tasks are waiting" warning per this many ms (Waitress warns on every task). */
const QUEUE_WARNING_INTERVAL_MS = 5_000;
/**
 * Tasks queue for a moment as a matter of course (a burst waits for workers to acknowledge the
 * ones before it); only a queue whose oldest task has waited this long is worth a warning.
 */
const QUEUE_WAIT_WARNING_MS = 100;
/**
 * How long, on average, a task may wait behind others in a worker's window. A worker takes as many
 * unacknowledged tasks as fit in it at the measured time a task holds its CPU (at most
 * `dispatchWindow`): many when tasks take microseconds (where one message per task costs more
 * than the app), one when they take milliseconds (where a task stuck behind another on a busy
 * worker costs more than the message).
 */
const WINDOW_BUDGET_MS = 2;
/** Weight of the newest task in the running average of the time a task holds its worker. */
const SERVICE_TIME_WEIGHT = 1 / 8;
/** Body chunks a worker may send ahead of what the channel has taken. */
const BODY_CHUNKS_AHEAD = 4;
/**
 * How long close() waits for the worker threads to see their WebSockets' close events (each
 * closes its port once it has) before it ends the threads: the sockets themselves are closed by
 * then, so only an app stuck in a loop keeps it waiting.
 */
const SOCKETS_GONE_MS = 1_000;

const runnableDispatcher = new RunnableMachine<DispatcherContext, DispatcherEvent>(
  dispatcherMachine.provide({
    actions: {
      runTask: ({ context, event }) => {
        if (event.type === 'task.submitted' || event.type === 'task.returned') context.shell.runTask(event.job);
      },
      enqueueTask: ({ context, event }) => {
        if (event.type === 'task.submitted') context.shell.enqueueTask(event.job);
      },
      requeueTask: ({ context, event }) => {
        if (event.type === 'task.returned') context.shell.requeueTask(event.job);
      },
      runNextQueued: ({ context }) => context.shell.runNextQueued(),
      warnQueueDepth: ({ context }) => context.shell.warnQueueDepth(),
      stopWorkers: ({ context }) => context.shell.stopWorkers(),
    },
  }),
);

/** What a task asks of the pool, and how it hears back. */
interface JobRequest {
  head: RequestHead;
  url: string;
  /** In memory (moved to the worker with at most one copy), or spooled: only its path crosses. */
  body: RequestBody;
  info: ConnectionInfo;
}

export interface JobListener {
  /** The app answered; a streamed body arrives through `parts.stream`. */
  onResponse(parts: ResponseParts): void;
  /**
   * The app failed, its worker died, or the pool stopped before it ran (ServerClosingError), all
   * before a response head: `unsendable` when the app answered something that cannot be sent.
   */
  onFailure(error: Error, unsendable: boolean): void;
  /** The app answered with upgradeWebSocket()'s 101 (`headers` its fields); its socket is across `takeover`. */
  onUpgrade(headers: string[], takeover: Takeover): void;
}

export class Job {
  readonly request: JobRequest;
  readonly listener: JobListener;
  worker: PoolWorker | undefined;
  /** When it joined the queue (performance.now()), if it had to wait. */
  queuedAt = 0;
  /** Its place among the tasks its worker was given (1, 2, …), to compare with what it started. */
  seq = 0;
  /** Its index in its worker's slots, and so its id on the worker's port. */
  slot = -1;
  /** When it was given to its worker (performance.now()). */
  assignedAt = 0;
  /** Its worker is past its first turn: it answered, or it awaits. */
  acked = false;
  /** It counts against its worker's threadConcurrency. */
  counted = false;
  /** Its client half-closed: the app is told (request.signal), the answer is still wanted. */
  clientLeft = false;
  /** Its answer is not wanted: the client is gone, or handler_timeout passed. */
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
  /**
   * Its tasks not yet answered (cancelled ones too, until the worker is done with them), by slot.
   * A slot is reused once its task is answered: a Map keyed by ever-new ids, set and deleted
   * for every request, made the main thread's GC promote its discarded hash tables (17 % fewer
   * hello requests per second with four workers).
   */
  readonly slots: (Job | undefined)[] = [];
  readonly #vacant: number[] = [];
  /** Tasks given and not yet past their first turn: they hold (or wait for) its CPU. */
  unacked = 0;
  /** Tasks counted against threadConcurrency. */
  load = 0;
  /** How many tasks it was given: the seq of the last. */
  given = 0;
  /** How many it started, as it counts them (read when it exits). */
  readonly started: Int32Array;
  /** What goes to it at the end of this turn, in one message. */
  outbox: ToWorker[] = [];
  /** Buffers moved with the outbox's messages. */
  transfer: ArrayBuffer[] = [];
  /** When it last acknowledged a task (performance.now()): the next one held its CPU from then, or from its assignment. */
  lastAckAt = 0;
  alive = true;
  /** Set once its app is loaded; a worker that dies before is handled by whoever started it. */
  ready = false;

  /** Give the job a slot, which is its id on this worker's port. */
  hold(job: Job): void {
    const slot = this.#vacant.pop() ?? this.slots.length;
    this.slots[slot] = job;
    job.slot = slot;
  }

  /** Its answer is in: the slot may serve another task. */
  letGo(job: Job): void {
    this.slots[job.slot] = undefined;
    this.#vacant.push(job.slot);
  }

  constructor(appRef: string, overrideGlobalObjects: boolean) {
    const channel = new MessageChannel();
    const started = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    this.started = new Int32Array(started);
    const data: WorkerData = { appRef, port: channel.port2, overrideGlobalObjects, started };
    this.thread = new Worker(builtScript('workers/worker.js'), {
      workerData: data,
      transferList: [channel.port2],
      name: `waitstate-${this.index}`,
    });
    this.port = channel.port1;
    this.api = Comlink.wrap<WorkerApi>(nodeEndpoint(this.thread));
  }
}

/** How the pool is sized (the options of the same names). */
interface PoolLimits {
  readonly threads: number;
  /** dispatchWindow: tasks a worker may hold that are not past their first turn. */
  readonly window: number;
  /** threadConcurrency: tasks a worker may have in progress. */
  readonly concurrency: number;
}

export class WorkerPool {
  readonly #appRef: string;
  readonly #threads: number;
  readonly #window: number;
  readonly #concurrency: number;
  /** The window in force: `dispatchWindow`, narrowed while tasks are slow (WINDOW_BUDGET_MS). */
  #windowNow: number;
  /** Running average of the time a task holds its worker, in ms. */
  #serviceMs = 0;
  readonly #logger: Logger;
  readonly #overrideGlobalObjects: boolean;
  readonly #machine: RunningMachine<DispatcherEvent>;
  readonly #workers = new Set<PoolWorker>();
  readonly #queue: Job[] = [];
  #closing = false;
  #flushScheduled = false;
  /** Tells the supervisor about worker exits and failed starts. */
  #report: (event: SupervisorEvent) => void = () => {};
  #lastWarning = -QUEUE_WARNING_INTERVAL_MS;
  #waitedSinceWarning = 0;
  /** WebSockets whose app is in a worker thread and has not closed its port yet. */
  #sockets = 0;
  #socketsGone: (() => void) | undefined;

  constructor(
    appRef: string,
    { threads, window, concurrency }: PoolLimits,
    logger: Logger,
    runtime: MachineRuntime,
    overrideGlobalObjects: boolean,
    inspect?: InspectionObserver,
  ) {
    this.#appRef = appRef;
    this.#threads = threads;
    this.#window = window;
    this.#windowNow = window;
    this.#concurrency = concurrency;
    this.#logger = logger;
    this.#overrideGlobalObjects = overrideGlobalObjects;
    this.#machine = runnableDispatcher.start(
      runtime,
      { shell: this },
      (error) => logger.error('waitstate: dispatcher failed:', error),
      inspect,
    );
  }

  /**
   * Start every worker; rejects (with every worker stopped) if the app cannot be loaded. Resolves
   * to the warning that the app looks like a factory, if it does: every worker loaded the same
   * object, so one warning, not one a thread.
   */
  async start(): Promise<string | undefined> {
    const workers = Array.from({ length: this.#threads }, () => this.#spawn());
    try {
      const hints = await Promise.all(workers.map((worker) => this.#whenReady(worker)));
      for (const worker of workers) worker.ready = true;
      this.#offerFreeSlots();
      return hints[0];
    } catch (error) {
      this.#closing = true;
      await Promise.all(workers.map((worker) => worker.thread.terminate()));
      throw error;
    }
  }

  /** Where worker exits and failed starts are reported (the supervisor). */
  reportTo(report: (event: SupervisorEvent) => void): void {
    this.#report = report;
  }

  submit(request: JobRequest, listener: JobListener): Job {
    const job = new Job(request, listener);
    this.#machine.send({ type: 'task.submitted', job, idle: this.#freeSlots() });
    return job;
  }

  /**
   * The answer is not wanted (the client is gone, or `timedOut`: handler_timeout passed): drop a
   * queued job, or tell its worker (request.signal aborts there) and free its slot at once. A
   * worker that never got past the timed-out task's first turn is stuck in it (a synchronous
   * loop): it is terminated, and the supervisor replaces it.
   */
  cancel(job: Job, timedOut = false): void {
    if (job.cancelled) return;
    job.cancelled = true;
    const queued = this.#queue.indexOf(job);
    if (queued !== -1) {
      this.#queue.splice(queued, 1);
      return;
    }
    const worker = job.worker;
    if (worker === undefined || !worker.alive) return;
    if (timedOut && !job.acked) {
      this.#logger.error(
        `waitstate: worker ${worker.index} has been busy with one turn for longer than handler_timeout; terminating it (its other tasks fail)`,
      );
      void worker.thread.terminate();
      return;
    }
    this.#send(worker, { t: 'cancel', id: job.slot });
    this.#uncount(job);
    this.#offerFreeSlots();
  }

  /** The client half-closed: tell the app (request.signal), still take its answer, and free its slot. */
  abort(job: Job): void {
    if (job.cancelled || job.clientLeft) return;
    job.clientLeft = true;
    const worker = job.worker;
    if (worker === undefined || !worker.alive) return; // queued: told when it is given to a worker
    this.#send(worker, { t: 'abort', id: job.slot });
    this.#uncount(job);
    this.#offerFreeSlots();
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#machine.send({ type: 'pool.closing' });
    if (this.#sockets > 0) {
      // Their close events are on their way to the apps: let them be seen first.
      await new Promise<void>((resolve) => {
        this.#socketsGone = resolve;
        setTimeout(resolve, SOCKETS_GONE_MS).unref();
      });
    }
    await Promise.all([...this.#workers].map((worker) => worker.thread.terminate()));
  }

  // ---- dispatcher machine actions ------------------------------------------------------------

  runTask(job: unknown): void {
    this.#assign(this.#leastLoaded()!, job as Job);
  }

  enqueueTask(job: unknown): void {
    (job as Job).queuedAt = performance.now();
    this.#queue.push(job as Job);
  }

  requeueTask(job: unknown): void {
    this.#queue.unshift(job as Job);
  }

  runNextQueued(): void {
    const worker = this.#leastLoaded();
    if (worker !== undefined) this.#assign(worker, this.#queue.shift()!);
  }

  warnQueueDepth(): void {
    this.#waitedSinceWarning++;
    const now = performance.now();
    const waitedMs = now - (this.#queue[0]?.queuedAt ?? now);
    if (waitedMs < QUEUE_WAIT_WARNING_MS || now - this.#lastWarning < QUEUE_WARNING_INTERVAL_MS) return;
    let full = 0;
    for (const worker of this.#workers) if (worker.load >= this.#concurrency) full++;
    const why =
      full === this.#threads
        ? `every worker thread has thread_concurrency (${this.#concurrency}) requests in progress`
        : `all ${this.#threads} worker threads are busy running requests`;
    this.#logger.warn(
      `waitstate: ${why}; task queue depth is ${this.#queue.length}, the oldest waiting ${Math.round(waitedMs)} ms ` +
        `(${this.#waitedSinceWarning} tasks waited since the last warning)`,
    );
    this.#lastWarning = now;
    this.#waitedSinceWarning = 0;
  }

  stopWorkers(): void {
    for (const job of this.#queue.splice(0)) job.listener.onFailure(new ServerClosingError(), false);
  }

  // ---- slots ---------------------------------------------------------------------------------

  #room(worker: PoolWorker): number {
    if (!worker.ready || !worker.alive) return 0;
    return Math.max(0, Math.min(this.#windowNow - worker.unacked, this.#concurrency - worker.load));
  }

  #freeSlots(): number {
    let free = 0;
    for (const worker of this.#workers) free += this.#room(worker);
    return free;
  }

  /**
   * The worker with room whose CPU is least claimed (fewest unacknowledged tasks), then the one
   * with the fewest tasks in progress: a second task goes nowhere while a worker has none.
   */
  #leastLoaded(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const worker of this.#workers) {
      if (this.#room(worker) === 0) continue;
      if (best === undefined || worker.unacked < best.unacked || (worker.unacked === best.unacked && worker.load < best.load)) {
        best = worker;
      }
    }
    return best;
  }

  /** The task is past its first turn: the time it held its worker goes into the average that sizes the window. */
  #acknowledge(worker: PoolWorker, job: Job): void {
    if (job.acked) return;
    job.acked = true;
    worker.unacked--;
    const now = performance.now();
    const held = now - Math.max(job.assignedAt, worker.lastAckAt);
    worker.lastAckAt = now;
    this.#serviceMs += (held - this.#serviceMs) * SERVICE_TIME_WEIGHT;
    this.#windowNow = Math.max(1, Math.min(this.#window, Math.floor(WINDOW_BUDGET_MS / this.#serviceMs)));
  }

  /** The task no longer counts against its worker's threadConcurrency. */
  #uncount(job: Job): void {
    if (!job.counted) return;
    job.counted = false;
    job.worker!.load--;
  }

  /** Slots came free: place queued tasks in them, then tell the dispatcher there is room. */
  #offerFreeSlots(): void {
    while (this.#freeSlots() > 0) {
      const queued = this.#queue.length;
      this.#machine.send({ type: 'worker.free', queued });
      if (queued === 0) return;
    }
  }

  // ---- workers -------------------------------------------------------------------------------

  #spawn(): PoolWorker {
    const worker = new PoolWorker(this.#appRef, this.#overrideGlobalObjects);
    this.#workers.add(worker);
    worker.port.on('message', (message: FromWorker) => {
      // A defect of ours here would be thrown from a port event and end the process: contain it.
      try {
        this.#onMessage(worker, message);
      } catch (error) {
        this.#logger.error(`waitstate: internal error handling a message from worker ${worker.index}:`, error);
      }
    });
    worker.thread.on('error', (error) => this.#logger.error(`waitstate: worker ${worker.index} failed:`, error));
    worker.thread.on('exit', (code) => this.#onExit(worker, code));
    return worker;
  }

  /** Resolves once the worker has loaded the app, to the hint that it looks like a factory, if any. */
  async #whenReady(worker: PoolWorker): Promise<string | undefined> {
    let onExit: (code: number) => void = () => {};
    const exited = new Promise<never>((_, reject) => {
      onExit = (code) => reject(new WorkerExitedError(`worker ${worker.index} exited with code ${code} while starting`));
      worker.thread.once('exit', onExit);
    });
    try {
      const started = await Promise.race([worker.api.ready(), exited]);
      if ('error' in started) throw fromWorkerError(started.error);
      return started.factoryHint;
    } finally {
      worker.thread.off('exit', onExit);
    }
  }

  #assign(worker: PoolWorker, job: Job): void {
    worker.hold(job);
    job.worker = worker;
    job.seq = ++worker.given;
    job.assignedAt = performance.now();
    job.acked = false;
    worker.unacked++;
    // A client that left while its task waited is told at once, and its task holds no slot.
    job.counted = !job.clientLeft;
    if (job.counted) worker.load++;
    const { head, url, body, info } = job.request;
    const moved = body instanceof Uint8Array ? forPosting(body, true) : { bytes: body, transfer: [] };
    this.#send(worker, packRequest({ id: job.slot, head, url, body: moved.bytes, info }), moved.transfer);
    if (job.clientLeft) this.#send(worker, { t: 'abort', id: job.slot });
  }

  /** Everything for a worker in this turn goes in one message, sent once the turn's I/O is done. */
  #send(worker: PoolWorker, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    worker.outbox.push(message);
    for (const buffer of transfer) worker.transfer.push(buffer);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const worker of this.#workers) {
      if (worker.outbox.length === 0) continue;
      if (worker.alive) worker.port.postMessage(worker.outbox, worker.transfer);
      worker.outbox = [];
      worker.transfer = [];
    }
  }

  #onMessage(worker: PoolWorker, message: FromWorker): void {
    if (message.t === 'awaiting') {
      for (const id of message.ids) {
        const job = worker.slots[id];
        if (job !== undefined) this.#acknowledge(worker, job);
      }
      this.#offerFreeSlots();
      return;
    }
    if (message.t === 'listener') {
      this.#logger.error(`waitstate: WebSocket ${message.target}: a listener threw:`, fromWorkerError(message.error));
      return;
    }
    const job = worker.slots[message.id];
    if (job === undefined) return;
    if (message.t !== 'chunk' && message.last) {
      // The slot is free: fill it before handling this answer.
      worker.letGo(job);
      this.#acknowledge(worker, job);
      this.#uncount(job);
      job.worker = undefined;
      this.#offerFreeSlots();
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
      // Once cancelled, its body stream is closed: what was already on the way is dropped.
      case 'chunk':
        if (!job.cancelled) job.controller?.enqueue(message.bytes);
        break;
      case 'end':
        if (!job.cancelled) job.controller?.close();
        break;
      case 'fail': {
        const error = fromWorkerError(message.error);
        if (!job.headSeen) {
          job.headSeen = true;
          if (!job.cancelled) job.listener.onFailure(error, message.unsendable);
        } else if (!job.cancelled) {
          job.controller?.error(error);
        }
        break;
      }
      case 'done':
        return;
      case 'upgrade':
        this.#upgraded(job, message);
        return;
    }
    const pulled = job.pulled;
    job.pulled = undefined;
    pulled?.();
  }

  /** The app answered with the 101: its socket, in the worker, is joined across the port that came with it. */
  #upgraded(job: Job, message: Extract<FromWorker, { t: 'upgrade' }>): void {
    this.#sockets++;
    const takeover = portTakeover(message.port, message.protocol, message.idleTimeoutMs, () => {
      if (--this.#sockets === 0) this.#socketsGone?.();
    });
    if (job.cancelled) takeover.abandon();
    else job.listener.onUpgrade(message.headers, takeover);
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
            if (worker.alive) this.#send(worker, { t: 'pull', id: job.slot });
          }),
        cancel: () => this.cancel(job),
      },
      new CountQueuingStrategy({ highWaterMark: BODY_CHUNKS_AHEAD }),
    );
  }

  /** Jobs that never started go back ahead of later arrivals, oldest first. */
  #requeue(jobs: Job[]): void {
    for (const job of jobs.reverse()) {
      job.worker = undefined;
      job.counted = false;
      if (!job.cancelled) this.#machine.send({ type: 'task.returned', job, idle: this.#freeSlots() });
    }
  }

  #onExit(worker: PoolWorker, code: number): void {
    // Answers it sent before it died are still in the port: take them first, so that what is left
    // is exactly the tasks it was running and those it had not started.
    worker.alive = false;
    for (let pending = receiveMessageOnPort(worker.port); pending !== undefined; pending = receiveMessageOnPort(worker.port)) {
      this.#onMessage(worker, pending.message as FromWorker);
    }
    this.#workers.delete(worker);
    if (this.#closing || !worker.ready) return;
    const started = Atomics.load(worker.started, 0);
    const left = worker.slots.filter((job) => job !== undefined).sort((a, b) => a.seq - b.seq);
    const running = left.filter((job) => job.seq <= started);
    const notStarted = left.filter((job) => job.seq > started);
    const lost = running.filter((job) => !job.cancelled);
    const what = lost.length === 0 ? '' : lost.length === 1 ? ' while running a task' : ` while running ${lost.length} tasks`;
    this.#logger.error(`waitstate: worker ${worker.index} exited with code ${code}${what}; starting a replacement`);
    for (const job of lost) {
      job.worker = undefined;
      const error = new WorkerExitedError(`the worker running this request exited with code ${code}`);
      if (!job.headSeen) {
        job.headSeen = true;
        job.listener.onFailure(error, false);
      } else {
        job.controller?.error(error);
        job.pulled?.();
      }
    }
    this.#requeue(notStarted);
    this.#report({ type: 'worker.exited' });
  }

  /** Start workers until the pool has `threads` again (asked by the supervisor). */
  replaceWorkers(): void {
    while (!this.#closing && this.#workers.size < this.#threads) {
      const worker = this.#spawn();
      this.#whenReady(worker).then(
        () => {
          worker.ready = true;
          this.#offerFreeSlots();
        },
        (error: unknown) => {
          this.#logger.error(`waitstate: replacement worker ${worker.index} did not start:`, error);
          void worker.thread.terminate();
          this.#report({ type: 'worker.failed-to-start' });
        },
      );
    }
  }
}
