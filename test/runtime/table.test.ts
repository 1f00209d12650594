// test/runtime/table.test.ts: the compiled tables (src/runtime/table.ts) must take exactly the
// transitions xstate takes, leave exactly the context xstate leaves and run exactly the actions
// xstate runs, with the same arguments, for every machine we ship: that is what lets the server
// run the tables on the hot path while the definitions stay the truth. Events come from each
// machine's own transitions, so a new event is exercised (or this file fails until it has a
// payload generator), and every transition must have been taken at least once.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  assign,
  cancel,
  createActor,
  emit,
  enqueueActions,
  fromPromise,
  log,
  not,
  raise,
  sendTo,
  setup,
  spawnChild,
  stopChild,
  type AnyStateMachine,
  type AnyTransitionDefinition,
  type InspectionEvent,
} from 'xstate';
import * as shipped from '../../machines/index.js';
import type { ChannelContext, ChannelEvent } from '../../machines/channel.js';
import type { DispatcherEvent } from '../../machines/dispatcher.js';
import type { ParserEvent } from '../../machines/parser.js';
import type { TaskEvent } from '../../machines/task.js';
import { RunnableMachine, type RunningMachine } from '../../src/runtime/machine.js';
import type { MachineRuntime } from '../../src/config/options.js';
import { compileMachine, MachineRunner } from '../../src/runtime/table.js';
import { complete, error, head } from '../machines/fixtures.js';
import { HANDSHAKE } from '../../src/http/websocket.js';

type AnyEvent = { readonly type: string };

/** For each event type of E, its payload (the event without `type`). */
type Payloads<E extends AnyEvent> = { readonly [T in E['type']]: fc.Arbitrary<Omit<Extract<E, { type: T }>, 'type'>> };
const none = fc.constant({});

// Payloads sit on both sides of every guard's limit.
const CHANNEL_INPUT = { shell: {}, deadlines: { headerTimeoutMs: 30_000, bodyMinRate: 240, bodyGraceMs: 5_000 } };
const channelPayloads: Payloads<ChannelEvent> = {
  'socket.data': none,
  'socket.ended': fc.record({ requestSpooling: fc.boolean() }),
  'socket.closed': none,
  'request.head': fc.record({ expectsContinue: fc.boolean(), bodyStarted: fc.boolean() }),
  'request.complete': fc.constant({ request: { head: head({ kind: 'none' }) } }),
  'request.invalid': fc.constant({ error }),
  'input.incomplete': none,
  'task.done': fc.record({ keepAlive: fc.boolean(), closeDelimited: fc.boolean(), pipelined: fc.boolean(), backlog: fc.boolean() }),
  'task.failed': none,
  'task.upgraded': none,
  'output.drained': fc.record({ pipelined: fc.boolean() }),
  'output.ended': none,
  'linger.expired': none,
  'server.closing': fc.record({ idle: fc.boolean() }),
  'channel.timeout': none,
  // Times around the limits of CHANNEL_INPUT: late and in time, head and body, not begun (0).
  'deadline.check': fc.record({
    now: fc.constant(100_000),
    headSince: fc.constantFrom(0, 99_000, 50_000),
    bodySince: fc.constantFrom(0, 99_000, 90_000),
    bodyBytes: fc.constantFrom(0, 10, 100_000),
  }),
  'server.shedding': fc.record({ requestBegun: fc.boolean() }),
};

const parserPayloads: Payloads<ParserEvent> = {
  'head.parsed': fc.record({
    head: fc.constantFrom(head({ kind: 'none' }), head({ kind: 'length', length: 3 }, true), head({ kind: 'chunked' })),
  }),
  'head.failed': fc.constant({ error }),
  'body.complete': none,
  'body.failed': fc.constant({ error }),
  'parser.reset': none,
};

const TASK_INPUT = { shell: {}, handlerTimeoutMs: 1000 };
const taskPayloads: Payloads<TaskEvent> = {
  'task.start': none,
  'app.responded': fc.record({ problem: fc.option(fc.constant(new Error('bad')), { nil: undefined }) }),
  'app.threw': fc.constant({ error: new Error('x') }),
  'app.notRun': fc.constant({}),
  'app.upgraded': none,
  'app.refused': fc.constant({ refusal: HANDSHAKE.key }),
  'body.finished': fc.record({ short: fc.boolean() }),
  'body.failed': fc.constant({ error: new Error('y') }),
  'client.left': none,
  'client.gone': none,
  'deadline.check': fc.record({ elapsedMs: fc.constantFrom(0, 999, 1000, 5000) }),
};

const dispatcherPayloads: Payloads<DispatcherEvent> = {
  'task.submitted': fc.record({ job: fc.constant({}), idle: fc.nat(3) }),
  'task.returned': fc.record({ job: fc.constant({}), idle: fc.nat(3) }),
  'worker.free': fc.record({ queued: fc.nat(3) }),
  'pool.closing': none,
};

interface Subject {
  readonly payloads: Readonly<Record<string, fc.Arbitrary<object>>>;
  readonly input: object;
  readonly maxLength: number;
  readonly numRuns: number;
}
/** Every machine in machines/index.ts: how to drive it, or why the compiled runner refuses it. */
const SUBJECTS: Readonly<Record<string, Subject>> = {
  channel: { payloads: channelPayloads, input: CHANNEL_INPUT, maxLength: 40, numRuns: 500 },
  parser: { payloads: parserPayloads, input: { shell: {} }, maxLength: 30, numRuns: 200 },
  task: { payloads: taskPayloads, input: TASK_INPUT, maxLength: 20, numRuns: 300 },
  dispatcher: { payloads: dispatcherPayloads, input: { shell: {} }, maxLength: 40, numRuns: 200 },
};
/** Machines that run as real actors: the compiler must refuse them, naming what it cannot run. */
const REFUSED: Readonly<Record<string, RegExp>> = { supervisor: /machine "supervisor": the root is a parallel state/ };

const machines: AnyStateMachine[] = Object.values(shipped);

// ---- what a machine has, read from xstate's own state nodes -----------------------------------

type StateNode = AnyStateMachine['root'];

function statesOf(machine: AnyStateMachine): StateNode[] {
  return Object.values(machine.root.states);
}

/** Every event type the machine has a transition for, on a state or on its root. */
function eventTypesOf(machine: AnyStateMachine): string[] {
  const types = new Set<string>(machine.events);
  for (const node of [machine.root, ...statesOf(machine)]) for (const type of node.transitions.keys()) types.add(type);
  return [...types].sort();
}

/** Random events of the machine's own types; types without a payload generator are left out (a test below fails). */
function eventsOf(machine: AnyStateMachine, payloads: Subject['payloads']): fc.Arbitrary<AnyEvent> {
  const types = eventTypesOf(machine).filter((type) => type in payloads);
  return fc.oneof(...types.map((type) => payloads[type]!.map((payload) => ({ ...payload, type }))));
}

/**
 * One step of a random run, resolved against the state the machine is in when it comes: mostly an
 * event that state handles (so runs get deep into the machine before a closing event ends them),
 * sometimes any event of the machine (which the state may ignore).
 */
interface Step {
  readonly handled: boolean;
  readonly choice: number;
  /** A payload for every event type, of which the step uses one. */
  readonly payloads: Readonly<Record<string, object>>;
}

function stepsOf(machine: AnyStateMachine, payloads: Subject['payloads'], maxLength: number): fc.Arbitrary<Step[]> {
  const types = eventTypesOf(machine).filter((type) => type in payloads);
  const step = fc.record({
    // Three steps out of four pick an event the state handles.
    handled: fc.nat(3).map((n) => n > 0),
    choice: fc.nat(),
    payloads: fc.record(Object.fromEntries(types.map((type) => [type, payloads[type]!]))),
  });
  return fc.array(step, { maxLength });
}

/** Where a run takes its events from: asked for the next one in `state`, until it has none. */
type EventSource = (state: string) => AnyEvent | undefined;

/** The events random steps stand for, each in the state the machine is in when it comes. */
function fromSteps(machine: AnyStateMachine, steps: readonly Step[]): EventSource {
  let next = 0;
  return (state) => {
    const step = steps[next++];
    if (step === undefined) return undefined;
    const all = Object.keys(step.payloads);
    const node = machine.root.states[state];
    const handled = node === undefined ? [] : all.filter((type) => node.transitions.has(type) || machine.root.transitions.has(type));
    const types = step.handled && handled.length > 0 ? handled : all;
    const type = types[step.choice % types.length]!;
    return { ...step.payloads[type], type };
  };
}

function fromList(events: readonly AnyEvent[]): EventSource {
  let next = 0;
  return () => events[next++];
}

function describeBranch(t: AnyTransitionDefinition, index: number): string {
  const guard = t.guard === undefined ? '' : ` [${typeof t.guard === 'string' ? t.guard : String((t.guard as { type?: unknown }).type)}]`;
  const target = t.target?.[0]?.key ?? '(stays)';
  return `${t.eventType} #${index}${guard} → ${target}`;
}

/**
 * What a run must exercise: every branch of every state's transitions, every branch of the
 * root's from every state that does not handle the event unconditionally itself, entering every
 * state, and leaving every state that has exit actions.
 */
function transitionUnits(machine: AnyStateMachine): string[] {
  const units: string[] = [];
  for (const state of statesOf(machine)) {
    units.push(`enter ${state.key}`);
    if (state.exit.length > 0) units.push(`exit ${state.key}`);
    if (state.type === 'final') continue;
    for (const list of state.transitions.values()) list.forEach((t, i) => units.push(`${state.key}: ${describeBranch(t, i)}`));
    for (const [type, list] of machine.root.transitions) {
      if (state.transitions.get(type)?.some((t) => t.guard === undefined)) continue;
      list.forEach((t, i) => units.push(`${state.key}: root ${describeBranch(t, i)}`));
    }
  }
  return units;
}

/** Collects the units exercised by real actors, from xstate's inspection events. */
class Coverage {
  readonly #seen = new Set<string>();
  readonly #units: readonly string[];

  constructor(machine: AnyStateMachine) {
    this.#units = transitionUnits(machine);
  }

  /** An inspection observer for one actor, which starts in `initial`. */
  observer(initial: string): (event: InspectionEvent) => void {
    let current = initial;
    this.#seen.add(`enter ${initial}`);
    return (event) => {
      if (event.type !== '@xstate.microstep') return;
      for (const t of event._transitions) {
        const fromRoot = t.source.parent === undefined;
        const index = t.source.transitions.get(t.eventType)!.indexOf(t);
        this.#seen.add(`${current}: ${fromRoot ? 'root ' : ''}${describeBranch(t, index)}`);
        const target = t.target?.[0];
        if (target !== undefined && (fromRoot || target !== t.source)) {
          this.#seen.add(`exit ${current}`);
          this.#seen.add(`enter ${target.key}`);
        }
      }
      current = String((event.snapshot as unknown as { value: unknown }).value);
    };
  }

  /** How many units were seen: grows when a run takes a transition none took before. */
  get seen(): number {
    return this.#seen.size;
  }

  missing(): string[] {
    return this.#units.filter((unit) => !this.#seen.has(unit));
  }
}

// ---- one machine, both interpreters -------------------------------------------------------------

/** Provide every custom action as a recorder of its name and arguments; built-in ones (assign) stay. */
function recording(machine: AnyStateMachine, log: unknown[]): AnyStateMachine {
  const actions: Record<string, (args: { context: unknown; event: unknown }) => void> = {};
  for (const [name, impl] of Object.entries(machine.implementations.actions)) {
    if (typeof impl === 'function' && 'resolve' in impl) continue;
    actions[name] = ({ context, event }) => void log.push({ action: name, event, context });
  }
  return machine.provide({ actions });
}

/** Runs events through a real actor and a compiled runner; after each, both must agree. */
function compare(machine: AnyStateMachine, events: EventSource, input: object, coverage?: Coverage): void {
  const xLog: unknown[] = [];
  const tLog: unknown[] = [];
  const initial = machine.root.initial.target[0]!.key;
  const actor = createActor(recording(machine, xLog), { input, ...(coverage && { inspect: coverage.observer(initial) }) });
  actor.start();
  const runner = new MachineRunner(compileMachine(recording(machine, tLog)), input);
  const observed = () => ({ state: runner.state, done: runner.done, context: runner.context, actions: tLog });
  const expected = () => {
    const snapshot = actor.getSnapshot();
    return { state: snapshot.value, done: snapshot.status === 'done', context: snapshot.context, actions: xLog };
  };
  expect(observed()).toEqual(expected());
  for (let event = events(String(actor.getSnapshot().value)); event !== undefined; event = events(String(actor.getSnapshot().value))) {
    // xstate warns about events sent to a stopped actor; the runner must ignore them the same way.
    if (actor.getSnapshot().status === 'active') actor.send(event);
    runner.send(event);
    expect(observed()).toEqual(expected());
  }
}

/** How deep the tour looks: more than the longest shortest path to any transition of our machines. */
const TOUR_DEPTH = 6;

/**
 * A deterministic tour of a machine: breadth first from the initial state (and context), every
 * event type with a fixed sample of its payloads, keeping each path that took a transition no
 * earlier path took. Random runs seldom reach a state behind several unlikely events (the
 * channel's `flushing`); the tour always does, so the coverage check below cannot be flaky, and
 * what it reports is a branch no generated payload can take.
 */
function tourOf(machine: AnyStateMachine, payloads: Subject['payloads'], input: object): AnyEvent[][] {
  const events = eventTypesOf(machine)
    .filter((type) => type in payloads)
    .flatMap((type) => {
      const samples = new Map(fc.sample(payloads[type]!, { numRuns: 60, seed: 1 }).map((p) => [JSON.stringify(p), p]));
      return [...samples.values()].map((payload) => ({ ...payload, type }));
    });
  const coverage = new Coverage(machine);
  const initial = machine.root.initial.target[0]!.key;
  const play = (path: readonly AnyEvent[]) => {
    const actor = createActor(recording(machine, []), { input, inspect: coverage.observer(initial) }).start();
    for (const event of path) actor.send(event);
    return actor.getSnapshot();
  };
  const keyOf = (snapshot: ReturnType<typeof play>) => JSON.stringify([snapshot.value, snapshot.context]);
  const visited = new Set([keyOf(play([]))]);
  const tour: AnyEvent[][] = [];
  let frontier: AnyEvent[][] = [[]];
  for (let depth = 0; depth < TOUR_DEPTH && frontier.length > 0; depth++) {
    const next: AnyEvent[][] = [];
    for (const path of frontier) {
      for (const event of events) {
        const walk = [...path, event];
        const seen = coverage.seen;
        const snapshot = play(walk);
        if (coverage.seen > seen) tour.push(walk);
        if (snapshot.status === 'active' && !visited.has(keyOf(snapshot))) {
          visited.add(keyOf(snapshot));
          next.push(walk);
        }
      }
    }
    frontier = next;
  }
  return tour;
}

describe('compiled tables agree with the xstate interpreter', () => {
  it('covers every machine machines/index.ts exports', () => {
    expect(machines.map((m) => m.id).sort()).toEqual([...Object.keys(SUBJECTS), ...Object.keys(REFUSED)].sort());
  });

  for (const [id, pattern] of Object.entries(REFUSED)) {
    it(`refuses ${id}, which runs as a real actor`, () => {
      expect(() => compileMachine(machines.find((m) => m.id === id)!)).toThrow(pattern);
    });
  }

  for (const machine of machines.filter((m) => m.id in SUBJECTS)) {
    const subject = SUBJECTS[machine.id]!;
    describe(machine.id, () => {
      const coverage = new Coverage(machine);

      it('has a payload generator for each of its event types, and none for others', () => {
        const types = eventTypesOf(machine);
        expect({ missing: types.filter((type) => !(type in subject.payloads)) }).toEqual({ missing: [] });
        expect({ unknown: Object.keys(subject.payloads).filter((type) => !types.includes(type)) }).toEqual({ unknown: [] });
      });

      test.prop([stepsOf(machine, subject.payloads, subject.maxLength)], { numRuns: subject.numRuns })(
        'takes the same transitions, context and actions on random events',
        (steps) => compare(machine, fromSteps(machine, steps), subject.input, coverage),
      );

      it('agrees on a tour of every transition, entry and exit, and the runs exercised them all', () => {
        for (const path of tourOf(machine, subject.payloads, subject.input)) compare(machine, fromList(path), subject.input, coverage);
        expect(coverage.missing()).toEqual([]);
      });
    });
  }
});

// ---- two machines sending to each other ---------------------------------------------------------

/** What the simulated shell answers, in order, when an action asks it: the same script for both worlds. */
interface Script {
  /**
   * What parseInput finds in the input: an event for the parser, or nothing yet; what
   * resumeReading finds buffered: an event for the parser, or nothing at all.
   */
  readonly parsed: readonly (ParserEvent | undefined)[];
  /** What the task started by startTask reports at once (sent to the channel from its own action). */
  readonly task: readonly (ChannelEvent | undefined)[];
}

/**
 * The channel and parser wired as src/connection/channel.ts wires them: the channel's actions send
 * to the parser, whose actions send back to the channel while it is still in its own action.
 * Every action logs its name, its event and the state each machine shows at that moment.
 */
function wiredPair(runtime: MachineRuntime, script: Script, log: unknown[]) {
  let channel: RunningMachine<ChannelEvent> | undefined;
  let parser: RunningMachine<ParserEvent> | undefined;
  let parsed = 0;
  let tasks = 0;
  const note = (action: string, event: unknown, facts?: object) =>
    log.push({ action, event, ...facts, channel: channel?.state, parser: parser?.state });
  /** What is buffered: nothing (undefined), or what the parse makes of it; true when a whole request was handed over. */
  const parseInput = (next: ParserEvent | undefined): boolean => {
    if (next === undefined) return false;
    parser!.send(next);
    return parser!.state === 'complete';
  };
  const channelActions: Record<string, (args: { event: ChannelEvent; context: ChannelContext }) => void> = {};
  for (const name of Object.keys(shipped.channelMachine.implementations.actions)) channelActions[name] = ({ event }) => note(name, event);
  channelActions['parseInput'] = ({ event }) => {
    note('parseInput', event);
    // As in the shell, nothing is buffered before the channel exists.
    if (channel !== undefined) parseInput(script.parsed[parsed++]);
  };
  channelActions['resumeReading'] = ({ event }) => {
    note('resumeReading', event);
    if (parser?.state === 'complete') parser.send({ type: 'parser.reset' });
    if (channel === undefined) return;
    // As in the shell: bytes buffered that make no whole request are reported.
    const next = script.parsed[parsed++];
    if (next !== undefined && !parseInput(next)) channel.send({ type: 'input.incomplete' });
  };
  channelActions['startTask'] = ({ event, context }) => {
    note('startTask', event, { clientLeft: context.peerEnded });
    const report = script.task[tasks++];
    if (report !== undefined) channel!.send(report);
  };
  const parserActions = {
    beginBody: ({ event }: { event: ParserEvent }) => {
      note('beginBody', event);
      if (event.type === 'head.parsed')
        channel!.send({ type: 'request.head', expectsContinue: event.head.expectsContinue, bodyStarted: false });
    },
    deliverRequest: ({ event }: { event: ParserEvent }) => {
      note('deliverRequest', event);
      channel!.send(complete);
    },
    rejectRequest: ({ event }: { event: ParserEvent }) => {
      note('rejectRequest', event);
      channel!.send({ type: 'request.invalid', error });
    },
  };
  const onError = (e: unknown) => log.push({ error: String(e) });
  parser = new RunnableMachine<object, ParserEvent>(shipped.parserMachine.provide({ actions: parserActions })).start(
    runtime,
    { shell: {} },
    onError,
  );
  channel = new RunnableMachine<object, ChannelEvent>(shipped.channelMachine.provide({ actions: channelActions })).start(
    runtime,
    CHANNEL_INPUT,
    onError,
  );
  return { channel, parser };
}

const deliveries = fc.oneof(
  eventsOf(shipped.channelMachine, channelPayloads).map((event) => ({ to: 'channel' as const, event: event as ChannelEvent })),
  eventsOf(shipped.parserMachine, parserPayloads).map((event) => ({ to: 'parser' as const, event: event as ParserEvent })),
);
const scripts: fc.Arbitrary<Script> = fc.record({
  parsed: fc.array(fc.option(eventsOf(shipped.parserMachine, parserPayloads) as fc.Arbitrary<ParserEvent>, { nil: undefined }), {
    maxLength: 20,
  }),
  task: fc.array(
    fc.option(
      fc.constantFrom<ChannelEvent>(
        { type: 'task.done', keepAlive: true, closeDelimited: false, pipelined: true, backlog: false },
        { type: 'task.done', keepAlive: true, closeDelimited: false, pipelined: false, backlog: false },
        { type: 'task.failed' },
      ),
      { nil: undefined },
    ),
    { maxLength: 10 },
  ),
});

describe('re-entrant sends: channel → parser → channel', () => {
  test.prop([scripts, fc.array(deliveries, { maxLength: 30 })], { numRuns: 300 })(
    'interleave actions and settle in the same states under both interpreters',
    (script, sends) => {
      const xLog: unknown[] = [];
      const tLog: unknown[] = [];
      const x = wiredPair('xstate', script, xLog);
      const t = wiredPair('compiled', script, tLog);
      const states = (pair: typeof x) => ({
        channel: pair.channel.state,
        parser: pair.parser.state,
        done: [pair.channel.done, pair.parser.done],
      });
      expect({ ...states(t), log: tLog }).toEqual({ ...states(x), log: xLog });
      for (const { to, event } of sends) {
        if (to === 'channel') {
          x.channel.send(event as ChannelEvent);
          t.channel.send(event as ChannelEvent);
        } else {
          x.parser.send(event as ParserEvent);
          t.parser.send(event as ParserEvent);
        }
        expect({ ...states(t), log: tLog }).toEqual({ ...states(x), log: xLog });
      }
    },
  );

  it('runs an event sent back to a busy machine after its current macrostep, and shows states as of the last one', () => {
    const log: unknown[] = [];
    const script: Script = { parsed: [{ type: 'head.parsed', head: head({ kind: 'none' }) }], task: [] };
    const { channel } = wiredPair('compiled', script, log);
    channel.send({ type: 'socket.data' });
    expect(log).toEqual([
      { action: 'resumeReading', event: { type: 'xstate.init', input: CHANNEL_INPUT }, channel: undefined, parser: 'head' },
      { action: 'parseInput', event: { type: 'socket.data' }, channel: 'reading', parser: 'head' },
      // The parser is still in the macrostep of head.parsed; the channel queues request.complete.
      { action: 'deliverRequest', event: script.parsed[0], channel: 'reading', parser: 'head' },
      // Entering `dispatched` in the macrostep of request.complete.
      { action: 'startTask', event: complete, clientLeft: false, channel: 'reading', parser: 'complete' },
    ]);
    expect(channel.state).toBe('dispatched');
  });
});

// ---- the runtime's own features, on small machines ----------------------------------------------

/** Runs random events and a tour through both interpreters (compare() asserts), then checks that they covered the machine. */
function agreesOnRandomEvents(machine: AnyStateMachine, input: object = {}): void {
  const payload = fc.record({ n: fc.constantFrom(1, 2) });
  const payloads = Object.fromEntries(eventTypesOf(machine).map((type) => [type, payload]));
  const coverage = new Coverage(machine);
  fc.assert(
    fc.property(stepsOf(machine, payloads, 20), (steps) => compare(machine, fromSteps(machine, steps), input, coverage)),
    { numRuns: 100 },
  );
  for (const path of tourOf(machine, payloads, input)) compare(machine, fromList(path), input, coverage);
  expect(coverage.missing()).toEqual([]);
}

describe('named assign', () => {
  const peer = setup({
    types: { context: {} as { peerEnded: boolean; count: number }, events: {} as { type: string; n?: number } },
    guards: { hasPeerEnded: ({ context }) => context.peerEnded },
    actions: {
      note: () => {},
      notePeerEnded: assign({ peerEnded: true }),
      add: assign(({ context, event }) => ({ count: context.count + (event.n ?? 0) })),
      resetCount: assign({ count: () => 0 }),
    },
  }).createMachine({
    id: 'peer',
    context: { peerEnded: false, count: 5 },
    initial: 'open',
    states: {
      open: {
        entry: ['note', 'resetCount', 'note'],
        exit: ['add', 'note'],
        on: {
          'peer.ended': { actions: ['note', 'notePeerEnded', 'note'] },
          add: { actions: ['add', 'note'] },
          finish: [{ guard: 'hasPeerEnded', target: 'closing', actions: ['notePeerEnded', 'note'] }, { target: 'waiting' }],
        },
      },
      waiting: { on: { resume: 'open' } },
      closing: { type: 'final', entry: 'note' },
    },
  });

  it('sets a boolean that a later guard reads, and later actions of the same step see', () => {
    const seen: unknown[] = [];
    const m = peer.provide({ actions: { note: ({ context }) => void seen.push({ ...context }) } });
    const runner = new MachineRunner(compileMachine<unknown, { type: string; n?: number }>(m), undefined);
    const step = (type: string, n = 0) => {
      seen.length = 0;
      runner.send({ type, n });
      return { state: runner.state, seen: [...seen] };
    };
    // Entry: note, resetCount, note.
    expect(seen).toEqual([
      { peerEnded: false, count: 5 },
      { peerEnded: false, count: 0 },
    ]);
    // The guard fails: exit(open) runs add (+2), then note.
    expect(step('finish', 2)).toEqual({ state: 'waiting', seen: [{ peerEnded: false, count: 2 }] });
    expect(step('resume')).toEqual({
      state: 'open',
      seen: [
        { peerEnded: false, count: 2 },
        { peerEnded: false, count: 0 },
      ],
    });
    expect(step('peer.ended')).toEqual({
      state: 'open',
      seen: [
        { peerEnded: false, count: 0 },
        { peerEnded: true, count: 0 },
      ],
    });
    expect(runner.context).toEqual({ peerEnded: true, count: 0 });
    // The guard reads the assigned context: exit(open) (add +3, note), the transition's actions, entry(closing).
    expect(step('finish', 3)).toEqual({
      state: 'closing',
      seen: [
        { peerEnded: true, count: 3 },
        { peerEnded: true, count: 3 },
        { peerEnded: true, count: 3 },
      ],
    });
  });

  it('agrees with xstate in every form (plain value, property assigner, assigner function)', () => {
    agreesOnRandomEvents(peer);
  });

  it('makes the context from a context function of the input, as xstate does', () => {
    const withInput = setup({
      types: {
        input: {} as { start: number },
        context: {} as { count: number; peerEnded: boolean },
        events: {} as { type: string; n?: number },
      },
      actions: { note: () => {}, add: assign(({ context, event }) => ({ count: context.count + (event.n ?? 0) })) },
    }).createMachine({
      id: 'counted',
      context: ({ input }) => ({ count: input.start, peerEnded: false }),
      initial: 'a',
      states: { a: { on: { add: { actions: ['add', 'note'] }, stop: 'b' } }, b: { type: 'final' } },
    });
    agreesOnRandomEvents(withInput, { start: 7 });
  });

  it('costs a machine that never assigns nothing: its context is the input itself', () => {
    const input = { shell: {} };
    const runner = new MachineRunner(compileMachine(shipped.parserMachine), input);
    expect(runner.context).toBe(input);
  });

  it('refuses, naming the machine and action, an assigner that wants an actor', () => {
    const spawning = setup({
      actions: { grab: assign(({ spawn }) => ({ child: spawn(fromPromise(async () => 1)) })) },
    }).createMachine({ id: 'spawning', context: {}, initial: 'a', states: { a: { on: { go: { actions: 'grab' } } } } });
    const runner = new MachineRunner(compileMachine(spawning), undefined);
    expect(() => runner.send({ type: 'go' })).toThrow(/machine "spawning": action "grab" uses spawn/);
  });
});

describe('root transitions', () => {
  const rooted = setup({
    types: { events: {} as { type: string; n?: number } },
    guards: { isTwo: ({ event }) => event.n === 2 },
    actions: { note: () => {}, leaveA: () => {}, enterA: () => {}, pong: () => {}, own: () => {} },
  }).createMachine({
    id: 'rooted',
    initial: 'a',
    on: { 'socket.closed': '.closed', ping: { actions: 'pong' }, reset: { target: '.a', actions: 'note' } },
    states: {
      a: {
        entry: 'enterA',
        exit: 'leaveA',
        on: { 'socket.closed': { guard: 'isTwo', target: 'b' }, again: { target: 'a', actions: 'note' }, next: 'b' },
      },
      b: { on: { 'socket.closed': { actions: 'own' }, ping: { target: 'a' }, quit: 'closed' } },
      closed: { type: 'final', entry: 'note' },
    },
  });

  function run(events: string[]): { state: string; actions: string[] } {
    const actions: string[] = [];
    const names = ['note', 'leaveA', 'enterA', 'pong', 'own'];
    const m = rooted.provide({ actions: Object.fromEntries(names.map((n) => [n, () => void actions.push(n)])) });
    const runner = new MachineRunner(compileMachine(m), undefined);
    for (const type of events) runner.send({ type });
    return { state: runner.state, actions };
  }

  it('bubble to the root when the state has no enabled transition (a failing guard included)', () => {
    expect(run(['ping', 'socket.closed'])).toEqual({ state: 'closed', actions: ['enterA', 'pong', 'leaveA', 'note'] });
  });
  it('yield to the state’s own transition for the same event', () => {
    expect(run(['next', 'socket.closed', 'ping'])).toEqual({ state: 'a', actions: ['enterA', 'leaveA', 'own', 'enterA'] });
  });
  it('exit and enter the current state again when they target it; a state’s own self-target does not', () => {
    expect(run(['reset', 'again'])).toEqual({ state: 'a', actions: ['enterA', 'leaveA', 'note', 'enterA', 'note'] });
  });
  it('agree with xstate', () => {
    agreesOnRandomEvents(rooted);
  });
});

describe('MachineRunner semantics', () => {
  it('queues an event sent from inside an action until the current step is over', () => {
    const order: string[] = [];
    let runner: MachineRunner<object, AnyEvent> | undefined;
    const m = setup({
      actions: {
        kick: () => {
          order.push(`kick in ${runner!.state}`);
          runner!.send({ type: 'next' });
          order.push('after-send');
        },
        arrive: () => void order.push(`arrive, showing ${runner!.state}`),
      },
    }).createMachine({
      initial: 'a',
      states: { a: { on: { go: { target: 'b', actions: 'kick' } } }, b: { entry: 'arrive', on: { next: 'c' } }, c: {} },
    });
    runner = new MachineRunner(compileMachine(m), {});
    runner.send({ type: 'go' });
    // As an actor's snapshot, the state shown changes when the macrostep is over.
    expect(order).toEqual(['kick in a', 'after-send', 'arrive, showing a']);
    expect(runner.state).toBe('c');
  });

  it('drops events still queued when a final state is reached', () => {
    let runner: MachineRunner<object, AnyEvent> | undefined;
    const reached: string[] = [];
    const m = setup({
      actions: { both: () => void (runner!.send({ type: 'late' }), runner!.send({ type: 'late' })), late: () => void reached.push('late') },
    }).createMachine({
      initial: 'a',
      states: { a: { on: { stop: { target: 'z', actions: 'both' }, late: { actions: 'late' } } }, z: { type: 'final' } },
    });
    runner = new MachineRunner(compileMachine(m), {});
    runner.send({ type: 'stop' });
    expect({ state: runner.state, done: runner.done, reached }).toEqual({ state: 'z', done: true, reached: [] });
  });
});

describe('compileMachine refuses, naming the machine and the construct, what the runner does not run', () => {
  const child = fromPromise(async () => 1);
  const base = setup({
    actors: { child },
    guards: { ok: () => true },
    actions: {
      plain: () => {},
      raised: raise({ type: 'x' }),
      sent: sendTo('someone', { type: 'x' }),
      emitted: emit({ type: 'x' }),
      logged: log('x'),
      enqueued: enqueueActions(() => {}),
      spawned: spawnChild('child'),
      stopped: stopChild('someone'),
      cancelled: cancel('x'),
    },
  });
  // Each: a machine definition that uses one construct, and what the error must name.
  const cases: [string, () => AnyStateMachine, RegExp][] = [
    [
      'a wildcard event',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { on: { '*': 'b' } }, b: {} } }),
      /wildcard event descriptor "\*"/,
    ],
    [
      'a partial wildcard',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { on: { 'foo.*': 'b' } }, b: {} } }),
      /wildcard event descriptor "foo\.\*"/,
    ],
    ...(['raised', 'sent', 'emitted', 'logged', 'enqueued', 'spawned', 'stopped', 'cancelled'] as const).map(
      (name): [string, () => AnyStateMachine, RegExp] => [
        `the built-in action behind "${name}"`,
        () => base.createMachine({ id: 'm', initial: 'a', states: { a: { entry: name } } }),
        new RegExp(`action "${name}" is the built-in xstate\\.`),
      ],
    ),
    [
      'an inline assign',
      () => base.createMachine({ id: 'm', context: {}, initial: 'a', states: { a: { entry: assign({ x: 1 }) } } }),
      /not referenced by name \(xstate\.assign\)/,
    ],
    [
      'an inline function',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: { actions: () => {} } } } } }),
      /not referenced by name/,
    ],
    [
      'an action with params',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { entry: { type: 'plain', params: { n: 1 } } } } }),
      /"plain" with params/,
    ],
    [
      'an action with no implementation',
      () => setup({}).createMachine({ id: 'm', initial: 'a', states: { a: { entry: 'ghost' as never } } }),
      /"ghost", which has no implementation/,
    ],
    [
      'an inline guard',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: { guard: () => true, target: 'b' } } }, b: {} } }),
      /a guard that is not referenced by name/,
    ],
    [
      'a higher-level guard',
      () =>
        setup({ guards: { ok: () => true, notOk: not('ok') } }).createMachine({
          id: 'm',
          initial: 'a',
          states: { a: { on: { go: { guard: 'notOk', target: 'b' } } }, b: {} },
        }),
      /guard "notOk" is a higher-level guard/,
    ],
    [
      '`after`',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { after: { 10: 'b' } }, b: {} } }),
      /state "a" uses delayed transitions \(`after`\)/,
    ],
    [
      '`invoke`',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { invoke: { src: 'child' } } } }),
      /state "a" uses invoked actors \(`invoke`\)/,
    ],
    [
      '`always`',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { always: 'b' }, b: {} } }),
      /state "a" uses eventless transitions \(`always`\)/,
    ],
    [
      'nesting',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { initial: 'b', states: { b: {} } } } }),
      /state "a" is a nested \(compound\) state/,
    ],
    [
      'a parallel state',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { type: 'parallel', states: { b: {}, c: {} } } } }),
      /state "a" is a parallel state/,
    ],
    ['a parallel root', () => base.createMachine({ id: 'm', type: 'parallel', states: { a: {}, b: {} } }), /the root is a parallel state/],
    [
      'a history state',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: {}, h: { type: 'history' } } }),
      /state "h" is a history state/,
    ],
    [
      '`reenter`',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: { target: 'a', reenter: true } } } } }),
      /reentering "go" transition/,
    ],
    [
      'multiple targets',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: { target: ['b', 'c'] } } }, b: {}, c: {} } }),
      /"go" transition with multiple targets/,
    ],
    [
      'root entry actions',
      () => base.createMachine({ id: 'm', initial: 'a', entry: 'plain', states: { a: {} } }),
      /the root uses entry actions/,
    ],
    [
      'a wildcard on the root',
      () => base.createMachine({ id: 'm', initial: 'a', on: { '*': { target: '.a' } }, states: { a: {} } }),
      /the root uses the wildcard event descriptor "\*"/,
    ],
    [
      'a built-in action behind a name on a root transition',
      () => base.createMachine({ id: 'm', initial: 'a', on: { go: { actions: 'raised' } }, states: { a: {} } }),
      /action "raised" is the built-in xstate\.raise/,
    ],
    [
      'root `always`',
      () => base.createMachine({ id: 'm', initial: 'a', always: { target: '.a' }, states: { a: {} } }),
      /the root uses eventless transitions/,
    ],
    [
      'exit actions on a final state',
      () => base.createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: 'z' } }, z: { type: 'final', exit: 'plain' } } }),
      /final state "z" has exit actions/,
    ],
    ['state tags', () => base.createMachine({ id: 'm', initial: 'a', states: { a: { tags: ['busy'] } } }), /state "a" uses `tags`/],
  ];
  it.each(cases)('%s', (_, build, pattern) => {
    expect(() => compileMachine(build())).toThrow(/^machine "m": /);
    expect(() => compileMachine(build())).toThrow(pattern);
  });
});

describe('a value an event carries reaches the entry action it causes', () => {
  it('startTask gets the very request that request.complete carried, under both interpreters', () => {
    const request = { head: head({ kind: 'none' }) };
    const event: ChannelEvent = { type: 'request.complete', request };
    const seen: unknown[] = [];
    const machine = shipped.channelMachine.provide({
      actions: {
        ...Object.fromEntries(Object.keys(shipped.channelMachine.implementations.actions).map((name) => [name, () => {}])),
        startTask: ({ event }: { event: ChannelEvent }) => void seen.push(event.type === 'request.complete' && event.request),
      },
    });
    const actor = createActor(machine as AnyStateMachine, { input: CHANNEL_INPUT });
    actor.start();
    actor.send(event);
    new MachineRunner<unknown, ChannelEvent>(compileMachine(machine), CHANNEL_INPUT).send(event);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(request);
    expect(seen[1]).toBe(request);
  });
});
