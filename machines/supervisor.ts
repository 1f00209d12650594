// machines/supervisor.ts: the server's maintenance actor (Waitress's maintenance sweep, and the
// keeper of the worker pool's size).
//
// Rules of this file:
// 1. Every `cleanup_interval` it asks for a sweep: each channel idle for longer than
//    `channel_timeout` is told `channel.timeout`, and the channel machine decides (a channel
//    whose task is running ignores it).
// 2. Every `deadlineSweepInterval` (a second) it asks for a deadline sweep: each channel with a
//    request on its way in, or a task running, is told `deadline.check` with how far it got, and
//    the channel and task machines judge it against header_timeout, body_min_rate and
//    handler_timeout. A sweep, not a timer per connection or per read: keeping a deadline costs a
//    request nothing, and a deadline is kept to within one interval.
// 3. A worker thread that exits is replaced; after a worker fails to start, the next attempt
//    waits `restartDelay`, so a broken deployment does not spin. `replaceWorkers` tops the pool
//    up to its size, so an exit that arrives while backing off is not lost.
// 4. Time enters only through xstate `after` delays; everything else is a named action provided
//    by src/. The three concerns are parallel regions. This machine runs as a real xstate actor
//    (one per server, a few events a minute), not from a compiled table.

import { setup } from 'xstate';
import { notProvided } from './stubs.js';

export interface SupervisorEffects {
  sweepIdleChannels(): void;
  sweepDeadlines(): void;
  replaceWorkers(): void;
}

export interface SupervisorInput {
  readonly shell: SupervisorEffects;
  /** cleanup_interval, in milliseconds. */
  readonly sweepIntervalMs: number;
  /** How often request deadlines are checked, in milliseconds. */
  readonly deadlineSweepIntervalMs: number;
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
    deadlineSweepInterval: ({ context }) => context.deadlineSweepIntervalMs,
    restartDelay: ({ context }) => context.restartDelayMs,
  },
  actions: {
    sweepIdleChannels: notProvided('supervisor', 'sweepIdleChannels'),
    sweepDeadlines: notProvided('supervisor', 'sweepDeadlines'),
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
    deadlines: {
      initial: 'watching',
      states: {
        watching: {
          description: 'Every second, channels with a request on its way in or running are told deadline.check.',
          after: { deadlineSweepInterval: { target: 'watching', reenter: true, actions: 'sweepDeadlines' } },
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
