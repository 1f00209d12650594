// machines/supervisor.ts: the server's maintenance actor (Waitress's maintenance sweep, and the
// keeper of the worker pool's size).
//
// Rules of this file:
// 1. Every `cleanup_interval` it asks for a sweep: each channel idle for longer than
//    `channel_timeout` is told `channel.timeout`, and the channel machine decides (a channel
//    whose task is running ignores it).
// 2. A worker thread that exits is replaced; after a worker fails to start, the next attempt
//    waits `restartDelay`, so a broken deployment does not spin. `replaceWorkers` tops the pool
//    up to its size, so an exit that arrives while backing off is not lost.
// 3. Time enters only through xstate `after` delays; everything else is a named action provided
//    by src/. The two concerns are parallel regions. This machine runs as a real xstate actor
//    (one per server, a few events a minute), not from a compiled table.

import { setup } from 'xstate';
import { notProvided } from './stubs.js';

export interface SupervisorEffects {
  sweepIdleChannels(): void;
  replaceWorkers(): void;
}

export interface SupervisorInput {
  readonly shell: SupervisorEffects;
  /** cleanup_interval, in milliseconds. */
  readonly sweepIntervalMs: number;
  /** How long to wait before starting a worker again after one failed to start. */
  readonly restartDelayMs: number;
}

export type SupervisorEvent = { type: 'worker.exited' } | { type: 'worker.failed-to-start' };

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorInput,
    input: {} as SupervisorInput,
    events: {} as SupervisorEvent,
  },
  delays: {
    sweepInterval: ({ context }) => context.sweepIntervalMs,
    restartDelay: ({ context }) => context.restartDelayMs,
  },
  actions: {
    sweepIdleChannels: notProvided('supervisor', 'sweepIdleChannels'),
    replaceWorkers: notProvided('supervisor', 'replaceWorkers'),
  },
}).createMachine({
  id: 'supervisor',
  type: 'parallel',
  context: ({ input }) => input,
  states: {
    channels: {
      initial: 'watching',
      states: {
        watching: {
          description: 'Every cleanup_interval, idle channels are told channel.timeout.',
          after: { sweepInterval: { target: 'watching', reenter: true, actions: 'sweepIdleChannels' } },
        },
      },
    },
    workers: {
      initial: 'healthy',
      states: {
        healthy: {
          on: {
            'worker.exited': { actions: 'replaceWorkers', description: 'Keep `threads` workers alive.' },
            'worker.failed-to-start': { target: 'backing-off' },
          },
        },
        'backing-off': {
          description: 'A worker failed to start: wait before trying again.',
          after: { restartDelay: { target: 'healthy', actions: 'replaceWorkers' } },
        },
      },
    },
  },
});
