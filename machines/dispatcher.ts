// machines/dispatcher.ts: which task runs on which worker, and which waits.
//
// Rules of this file:
// 1. A fixed pool of `threads` workers. A worker is an event loop: it runs up to
//    `threadConcurrency` tasks at once while they await, and holds at most `dispatchWindow` that
//    have not yet reached their first await (those wait for, or hold, its CPU; Waitress's
//    ThreadedTaskDispatcher is the window of 1 with a concurrency of 1). A slot is room under
//    both. Tasks that find no slot wait in a FIFO queue and are placed in arrival order as slots
//    come free. Tasks a worker was given but never started, when it dies, go to the front of the
//    queue, ahead of later arrivals.
// 2. No I/O: running a task on a worker, queueing it and warning about the queue are named actions
//    that src/workers/pool.ts provides. The facts guards need (free slots, queued tasks) travel in
//    the event, counted by the shell just before it sends. Which worker gets a task (the least
//    loaded) is the shell's choice.
// 3. A worker that dies is not the dispatcher's business beyond its slot: the supervisor replaces
//    it, and the replacement reports `worker.ready` like a worker that finished a task.

import { setup } from 'xstate';
import { notProvided } from './stubs.js';

/** What the shell must do for the dispatcher. `job` and `worker` are the shell's own objects. */
export interface DispatcherEffects {
  /** Give the job to the least loaded worker with a free slot. */
  runTask(job: unknown): void;
  enqueueTask(job: unknown): void;
  /** Put a handed-back job at the front of the queue. */
  requeueTask(job: unknown): void;
  /** Place the oldest queued job in a free slot (one just came free). */
  runNextQueued(): void;
  warnQueueDepth(): void;
  stopWorkers(): void;
}

export interface DispatcherContext {
  readonly shell: DispatcherEffects;
}

export type DispatcherEvent =
  /** A task is ready to run; `idle` counts free slots before it is placed. */
  | { type: 'task.submitted'; job: unknown; idle: number }
  /** A task its worker never started (the worker died) comes back; `idle` counts free slots. */
  | { type: 'task.returned'; job: unknown; idle: number }
  /** A slot came free (a task ended, or a new worker is ready); `queued` counts waiting tasks. */
  | { type: 'worker.free'; queued: number }
  | { type: 'pool.closing' };

export const dispatcherMachine = setup({
  types: {
    context: {} as DispatcherContext,
    input: {} as DispatcherContext,
    events: {} as DispatcherEvent,
  },
  guards: {
    hasNoFreeSlot: ({ event }) => (event.type === 'task.submitted' || event.type === 'task.returned') && event.idle === 0,
    takesLastFreeSlot: ({ event }) => (event.type === 'task.submitted' || event.type === 'task.returned') && event.idle === 1,
    hasQueuedTask: ({ event }) => event.type === 'worker.free' && event.queued > 0,
  },
  actions: {
    runTask: notProvided('dispatcher', 'runTask'),
    enqueueTask: notProvided('dispatcher', 'enqueueTask'),
    requeueTask: notProvided('dispatcher', 'requeueTask'),
    runNextQueued: notProvided('dispatcher', 'runNextQueued'),
    warnQueueDepth: notProvided('dispatcher', 'warnQueueDepth'),
    stopWorkers: notProvided('dispatcher', 'stopWorkers'),
  },
}).createMachine({
  id: 'dispatcher',
  initial: 'saturated',
  context: ({ input }) => input,
  states: {
    available: {
      description: 'At least one slot is free: a submitted task goes to a worker at once.',
      on: {
        'task.submitted': [
          { guard: 'hasNoFreeSlot', target: 'saturated', actions: ['enqueueTask', 'warnQueueDepth'] },
          { guard: 'takesLastFreeSlot', target: 'saturated', actions: 'runTask' },
          { actions: 'runTask' },
        ],
        'task.returned': [
          { guard: 'hasNoFreeSlot', target: 'saturated', actions: 'requeueTask' },
          { guard: 'takesLastFreeSlot', target: 'saturated', actions: 'runTask' },
          { actions: 'runTask' },
        ],
        'worker.free': { description: 'Slots are counted from the workers themselves: nothing to do.' },
        'pool.closing': { target: 'stopped' },
      },
    },
    saturated: {
      description: 'Every slot is taken (or workers are still starting): submitted tasks wait in FIFO order.',
      on: {
        'task.submitted': { actions: ['enqueueTask', 'warnQueueDepth'] },
        'task.returned': { actions: 'requeueTask' },
        'worker.free': [
          { guard: 'hasQueuedTask', actions: 'runNextQueued', description: 'The oldest waiting task takes the freed slot.' },
          { target: 'available' },
        ],
        'pool.closing': { target: 'stopped' },
      },
    },
    stopped: {
      type: 'final',
      entry: 'stopWorkers',
    },
  },
});
