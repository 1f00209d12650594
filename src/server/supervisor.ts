// src/server/supervisor.ts: the supervisor machine (machines/supervisor.ts) as a real xstate actor.
//
// One per server, a handful of events a minute: its `after` delays are the server's only timers
// of its own, and it is the actor to watch in the inspector for sweeps and worker restarts.
import { createActor } from 'xstate';
import { supervisorMachine, type SupervisorEffects, type SupervisorEvent } from '../../machines/supervisor.js';
import type { Logger } from '../config/options.js';
import type { InspectionObserver } from '../runtime/machine.js';

/** After a worker fails to start, wait this long before starting one again. */
const RESTART_DELAY_MS = 1_000;
/** How often deadlines are checked: a deadline is kept to within this (node:http checks every 30 s by default). */
const DEADLINE_SWEEP_MS = 1_000;

const supervisorLogic = supervisorMachine.provide({
  actions: {
    sweepIdleChannels: ({ context }) => context.shell.sweepIdleChannels(),
    sweepDeadlines: ({ context }) => context.shell.sweepDeadlines(),
    replaceWorkers: ({ context }) => context.shell.replaceWorkers(),
  },
});

export interface Supervisor {
  send(event: SupervisorEvent): void;
  stop(): void;
}

export function startSupervisor(
  shell: SupervisorEffects,
  sweepIntervalMs: number,
  logger: Logger,
  inspect?: InspectionObserver,
): Supervisor {
  const input = { shell, sweepIntervalMs, deadlineSweepIntervalMs: DEADLINE_SWEEP_MS, restartDelayMs: RESTART_DELAY_MS };
  const actor = createActor(supervisorLogic, inspect === undefined ? { input } : { input, inspect });
  // Without an error observer a throwing action would crash the process (xstate rethrows it).
  actor.subscribe({ error: (error) => logger.error('waitstate: supervisor failed:', error) });
  actor.start();
  return { send: (event) => actor.send(event), stop: () => actor.stop() };
}
