// The compiled tables (src/runtime/table.ts) must take exactly the transitions xstate takes and run
// exactly the actions xstate runs, for every machine we ship: that is what lets the server run
// the tables on the hot path while the definitions stay the truth.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createActor, setup, type AnyStateMachine } from 'xstate';
import { channelMachine, type ChannelEvent } from '../../machines/channel.js';
import { parserMachine, type ParserEvent } from '../../machines/parser.js';
import { dispatcherMachine, type DispatcherEvent } from '../../machines/dispatcher.js';
import { compileMachine, MachineRunner } from '../../src/runtime/table.js';
import { taskMachine, type TaskEvent } from '../../machines/task.js';
import { complete, error, head } from '../machines/fixtures.js';

const channelEvents: fc.Arbitrary<ChannelEvent> = fc.oneof(
  fc.constantFrom<ChannelEvent>(
    { type: 'socket.data' },
    { type: 'socket.ended' },
    { type: 'socket.closed' },
    complete,
    { type: 'request.invalid', error },
    { type: 'task.failed' },
    { type: 'output.drained' },
    { type: 'channel.timeout' },
  ),
  fc.record({ type: fc.constant('request.head' as const), expectsContinue: fc.boolean(), bodyStarted: fc.boolean() }),
  fc.record({ type: fc.constant('task.done' as const), persistent: fc.boolean(), backlog: fc.boolean() }),
  fc.record({ type: fc.constant('server.closing' as const), idle: fc.boolean() }),
  fc.record({ type: fc.constant('server.shedding' as const), requestBegun: fc.boolean() }),
  // Times around the limits of CHANNEL_INPUT: late and in time, head and body, paused (0).
  fc.record({
    type: fc.constant('deadline.check' as const),
    now: fc.constant(100_000),
    headSince: fc.constantFrom(0, 99_000, 50_000),
    bodySince: fc.constantFrom(0, 99_000, 90_000),
    bodyBytes: fc.constantFrom(0, 10, 100_000),
  }),
);
const CHANNEL_INPUT = { shell: {}, deadlines: { headerTimeoutMs: 30_000, bodyMinRate: 240, bodyGraceMs: 5_000 } };

const parserEvents: fc.Arbitrary<ParserEvent> = fc.oneof(
  fc.constantFrom<ParserEvent>(
    { type: 'head.parsed', head: head({ kind: 'none' }) },
    { type: 'head.parsed', head: head({ kind: 'length', length: 3 }) },
    { type: 'head.parsed', head: head({ kind: 'chunked' }) },
    { type: 'head.failed', error },
    { type: 'body.complete' },
    { type: 'body.failed', error },
    { type: 'parser.reset' },
  ),
);

const taskEvents: fc.Arbitrary<TaskEvent> = fc.oneof(
  fc.constantFrom<TaskEvent>(
    { type: 'task.start' },
    { type: 'app.threw', error: new Error('x') },
    { type: 'body.failed', error: new Error('y') },
    { type: 'client.gone' },
    { type: 'client.left' },
  ),
  fc.record({ type: fc.constant('app.responded' as const), problem: fc.option(fc.constant('bad'), { nil: undefined }) }),
  fc.record({ type: fc.constant('body.finished' as const), short: fc.boolean() }),
  fc.record({ type: fc.constant('deadline.check' as const), elapsedMs: fc.constantFrom(0, 999, 1000, 5000) }),
);
const TASK_INPUT = { shell: {}, handlerTimeoutMs: 1000 };

const dispatcherEvents: fc.Arbitrary<DispatcherEvent> = fc.oneof(
  fc.record({ type: fc.constant('task.submitted' as const), job: fc.constant({}), idle: fc.nat(3) }),
  fc.record({ type: fc.constant('task.returned' as const), job: fc.constant({}), idle: fc.nat(3) }),
  fc.record({ type: fc.constant('worker.free' as const), queued: fc.nat(3) }),
  fc.constant<DispatcherEvent>({ type: 'pool.closing' }),
);

/** Provide every action of a machine as a recorder, so both interpreters log what they ran. */
function recording(machine: AnyStateMachine, log: string[]): AnyStateMachine {
  const actions: Record<string, () => void> = {};
  for (const name of Object.keys(machine.implementations.actions)) actions[name] = () => void log.push(name);
  return machine.provide({ actions });
}

function compare(machine: AnyStateMachine, events: { type: string }[], input: object = { shell: {} }): void {
  const xLog: string[] = [];
  const tLog: string[] = [];
  const actor = createActor(recording(machine, xLog), { input });
  actor.start();
  const runner = new MachineRunner(compileMachine(recording(machine, tLog)), input, { type: 'xstate.init' });
  expect(runner.state).toBe(actor.getSnapshot().value);
  expect(tLog).toEqual(xLog);
  for (const event of events) {
    // xstate warns about events sent to a stopped actor; the runner must ignore them the same way.
    if (actor.getSnapshot().status === 'done') {
      runner.send(event);
      expect(tLog).toEqual(xLog);
      continue;
    }
    actor.send(event);
    runner.send(event);
    expect({ state: runner.state, done: runner.done, actions: tLog }).toEqual({
      state: actor.getSnapshot().value,
      done: actor.getSnapshot().status === 'done',
      actions: xLog,
    });
  }
}

describe('compiled tables agree with the xstate interpreter', () => {
  test.prop([fc.array(channelEvents, { maxLength: 40 })])('channel', (events) => compare(channelMachine, events, CHANNEL_INPUT));
  test.prop([fc.array(parserEvents, { maxLength: 40 })])('parser', (events) => compare(parserMachine, events));
  test.prop([fc.array(taskEvents, { maxLength: 20 })])('task', (events) => compare(taskMachine, events, TASK_INPUT));
  test.prop([fc.array(dispatcherEvents, { maxLength: 40 })])('dispatcher', (events) => compare(dispatcherMachine, events));
});

describe('a value an event carries reaches the entry action it causes', () => {
  it('startTask gets the very request that request.complete carried, under both interpreters', () => {
    const request = { head: head({ kind: 'none' }) };
    const event: ChannelEvent = { type: 'request.complete', request };
    const seen: unknown[] = [];
    const machine = recording(channelMachine, []).provide({
      actions: { startTask: ({ event }: { event: ChannelEvent }) => void seen.push(event.type === 'request.complete' && event.request) },
    });
    const actor = createActor(machine, { input: CHANNEL_INPUT });
    actor.start();
    actor.send(event);
    const runner = new MachineRunner(compileMachine(machine), CHANNEL_INPUT, { type: 'xstate.init' });
    runner.send(event);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(request);
    expect(seen[1]).toBe(request);
  });
});

describe('compileMachine refuses what the runner cannot run', () => {
  it('rejects nested states', () => {
    const nested = setup({}).createMachine({ initial: 'a', states: { a: { initial: 'b', states: { b: {} } } } });
    expect(() => compileMachine(nested)).toThrow(/only flat/);
  });
  it('rejects delayed transitions', () => {
    const delayed = setup({}).createMachine({ initial: 'a', states: { a: { after: { 10: 'b' } }, b: {} } });
    expect(() => compileMachine(delayed)).toThrow(/invoke\/after/);
  });
  it('rejects actions that are not referenced by name', () => {
    const inline = setup({}).createMachine({ initial: 'a', states: { a: { on: { go: { target: 'b', actions: () => {} } } }, b: {} } });
    expect(() => compileMachine(inline)).toThrow(/by name/);
  });
});

describe('MachineRunner semantics', () => {
  it('queues an event sent from inside an action until the current step is over', () => {
    const order: string[] = [];
    let runner: MachineRunner<object, { type: string }>;
    const m = setup({
      actions: {
        kick: () => {
          order.push('kick');
          runner.send({ type: 'next' });
          order.push('after-send');
        },
        arrive: () => void order.push('arrive'),
      },
    }).createMachine({
      initial: 'a',
      states: { a: { on: { go: { target: 'b', actions: 'kick' } } }, b: { entry: 'arrive', on: { next: 'c' } }, c: {} },
    });
    runner = new MachineRunner(compileMachine(m), {}, { type: 'xstate.init' });
    runner.send({ type: 'go' });
    expect(order).toEqual(['kick', 'after-send', 'arrive']);
    expect(runner.state).toBe('c');
  });
});
