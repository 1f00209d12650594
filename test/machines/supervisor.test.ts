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
        sweepDeadlines: () => void calls.push('deadlines'),
        replaceWorkers: () => void calls.push('replace'),
      },
    }),
    { clock, input: { shell: {} as never, sweepIntervalMs: 1000, deadlineSweepIntervalMs: 5000, restartDelayMs: 300 } },
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
  it('sweeps deadlines every deadlineSweepIntervalMs, beside the idle sweep', () => {
    const { calls, clock } = start();
    // A simulated clock fires each timer once per increment: step a second at a time.
    for (let second = 0; second < 4; second++) clock.increment(1000);
    clock.increment(999);
    expect(calls.filter((c) => c === 'deadlines')).toEqual([]);
    clock.increment(1);
    expect(calls.filter((c) => c === 'deadlines')).toEqual(['deadlines']);
    for (let second = 0; second < 5; second++) clock.increment(1000);
    expect(calls.filter((c) => c === 'deadlines')).toHaveLength(2);
    expect(calls.filter((c) => c === 'sweep')).toHaveLength(10);
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
    expect(actor.getSnapshot().value).toEqual({ channels: 'watching', deadlines: 'watching', workers: 'backing-off' });
    clock.increment(299);
    expect(calls).toEqual([]);
    clock.increment(1);
    expect(calls).toEqual(['replace']);
    expect(actor.getSnapshot().value).toEqual({ channels: 'watching', deadlines: 'watching', workers: 'healthy' });
    clock.increment(700);
    expect(calls).toEqual(['replace', 'sweep']);
  });
});
