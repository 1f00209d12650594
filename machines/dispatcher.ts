// machines/dispatcher.ts: which task runs on which worker, and which waits.
//
// Rules of this file:
// 1. A fixed pool of `threads` workers; a task runs only on an idle worker, so never more tasks
//    run than there are workers (Waitress's ThreadedTaskDispatcher). Tasks that find every worker
//    busy wait in a FIFO queue and run in arrival order as workers come free.
// 2. No I/O: running a task on a worker, queueing it and warning about the queue are named actions
//    that src/worker-pool.ts provides. The facts guards need (idle workers, queued tasks) travel in
//    the event, counted by the shell just before it sends.
// 3. A worker that dies is not the dispatcher's business beyond its slot: the supervisor replaces
//    it, and the replacement reports `worker.ready` like a worker that finished a task.

import { setup } from 'xstate';
import { notProvided } from './stubs.js';

/** What the shell must do for the dispatcher. `job` and `worker` are the shell's own objects. */
export interface DispatcherEffects {
  /** Run the job on an idle worker. */
  runTask(job: unknown): void;
  enqueueTask(job: unknown): void;
  /** Run the oldest queued job on this (just freed) worker. */
  runNextQueued(worker: unknown): void;
  markIdle(worker: unknown): void;
  warnQueueDepth(): void;
  stopWorkers(): void;
}

export interface DispatcherContext {
  readonly shell: DispatcherEffects;
}

export type DispatcherEvent =
  /** A task is ready to run; `idle` counts idle workers before it is placed. */
  | { type: 'task.submitted'; job: unknown; idle: number }
  /** A worker finished its task, or a new worker became ready; `queued` counts waiting tasks. */
  | { type: 'worker.free'; worker: unknown; queued: number }
  | { type: 'pool.closing' };

export const dispatcherMachine = setup({
  types: {
    context: {} as DispatcherContext,
    input: {} as DispatcherContext,
    events: {} as DispatcherEvent,
  },
  guards: {
    hasNoIdleWorker: ({ event }) => event.type === 'task.submitted' && event.idle === 0,
    isLastIdleWorker: ({ event }) => event.type === 'task.submitted' && event.idle === 1,
    hasQueuedTask: ({ event }) => event.type === 'worker.free' && event.queued > 0,
  },
  actions: {
    runTask: notProvided('dispatcher', 'runTask'),
    enqueueTask: notProvided('dispatcher', 'enqueueTask'),
    runNextQueued: notProvided('dispatcher', 'runNextQueued'),
    markIdle: notProvided('dispatcher', 'markIdle'),
    warnQueueDepth: notProvided('dispatcher', 'warnQueueDepth'),
    stopWorkers: notProvided('dispatcher', 'stopWorkers'),
  },
}).createMachine({
  id: 'dispatcher',
  initial: 'saturated',
  context: ({ input }) => input,
  states: {
    available: {
      description: 'At least one worker is idle: a submitted task runs at once.',
      on: {
        'task.submitted': [
          { guard: 'hasNoIdleWorker', target: 'saturated', actions: ['enqueueTask', 'warnQueueDepth'] },
          { guard: 'isLastIdleWorker', target: 'saturated', actions: 'runTask' },
          { actions: 'runTask' },
        ],
        'worker.free': { actions: 'markIdle' },
        'pool.closing': { target: 'stopped' },
      },
    },
    saturated: {
      description: 'Every worker is busy (or still starting): submitted tasks wait in FIFO order.',
      on: {
        'task.submitted': { actions: ['enqueueTask', 'warnQueueDepth'] },
        'worker.free': [
          { guard: 'hasQueuedTask', actions: 'runNextQueued', description: 'The oldest waiting task takes the freed worker.' },
          { target: 'available', actions: 'markIdle' },
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
