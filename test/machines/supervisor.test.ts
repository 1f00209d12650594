// The supervisor machine with a simulated clock: sweeps every cleanup_interval, replaces workers,
// backs off after a failed start.
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.js';

function start() {
  const calls: string[] = [];
  const clock = new SimulatedClock();
  const actor = createActor(
    supervisorMachine.provide({
      actions: {
        sweepIdleChannels: () => void calls.push('sweep'),
        replaceWorkers: () => void calls.push('replace'),
      },
    }),
    { clock, input: { shell: {} as never, sweepIntervalMs: 1000, restartDelayMs: 300 } },
  );
  actor.start();
  return { actor, calls, clock };
}

describe('supervisor machine', () => {
  it('sweeps idle channels every cleanup_interval', () => {
    const { calls, clock } = start();
    clock.increment(999);
    expect(calls).toEqual([]);
    clock.increment(1);
    expect(calls).toEqual(['sweep']);
    clock.increment(1000);
    clock.increment(1000);
    expect(calls).toEqual(['sweep', 'sweep', 'sweep']);
  });
  it('replaces a worker that exits at once', () => {
    const { actor, calls } = start();
    actor.send({ type: 'worker.exited' });
    expect(calls).toEqual(['replace']);
  });
  it('backs off after a failed start, still sweeping, then tops the pool up', () => {
    const { actor, calls, clock } = start();
    actor.send({ type: 'worker.failed-to-start' });
    actor.send({ type: 'worker.exited' });
    expect(actor.getSnapshot().value).toEqual({ channels: 'watching', workers: 'backing-off' });
    clock.increment(299);
    expect(calls).toEqual([]);
    clock.increment(1);
    expect(calls).toEqual(['replace']);
    expect(actor.getSnapshot().value).toEqual({ channels: 'watching', workers: 'healthy' });
    clock.increment(700);
    expect(calls).toEqual(['replace', 'sweep']);
  });
});
