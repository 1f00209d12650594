// src/runtime/table.ts: run a flat xstate machine from a table compiled out of its own definition.
//
// Why: an xstate actor costs ~3.5 µs per event and ~14 µs to create (DESIGN.md, "Hot path
// budget"); a request needs several events across the channel, parser and task machines, which
// would cost more than node:http spends on a whole request. The machine definitions stay the
// single source of truth: `compileMachine()` reads the states, transitions, guards and actions
// that xstate itself built from the definition, and `MachineRunner` steps through them with the
// same semantics as xstate v5 for the subset we use. test/runtime/table.test.ts proves the two
// agree (state and executed actions) on random event sequences, for every machine we ship.
//
// Supported subset (compileMachine throws on anything else, so a machine cannot drift out of it):
// - flat machines: top-level atomic or final states, no nesting, no parallel states, no history;
// - `on` and `always` transitions with an optional named guard and named actions;
// - `entry` / `exit` named actions; no `assign`, `after`, `invoke` or spawned children.
// Context is whatever the caller passes in: our machines keep their facts in event payloads
// and reach the shell through `context.shell` (see each machine's header).
//
// Semantics mirrored from xstate v5 (macrostep): an event with no enabled transition is ignored;
// a targetless transition runs its actions only; a targeted one runs exit(source), the
// transition's actions, entry(target); then eventless (`always`) transitions are taken, with the
// same event, until none is enabled; a final state stops the runner. An event sent from inside an
// action is queued and processed after the current macrostep, as xstate's mailbox does.

import type { AnyStateMachine } from 'xstate';

/** The argument xstate passes to guards and actions; the runner passes the same shape. */
export interface ActionArgs<C, E> {
  readonly context: C;
  readonly event: E;
}
type Guard<C, E> = (args: ActionArgs<C, E>) => boolean;
type Action<C, E> = (args: ActionArgs<C, E>) => void;

interface CompiledTransition<C, E> {
  readonly target: number; // state index, or -1 for a targetless transition
  readonly guard: Guard<C, E> | undefined;
  readonly actions: readonly Action<C, E>[];
}

interface CompiledState<C, E> {
  readonly name: string;
  readonly final: boolean;
  readonly entry: readonly Action<C, E>[];
  readonly exit: readonly Action<C, E>[];
  readonly on: ReadonlyMap<string, readonly CompiledTransition<C, E>[]>;
  readonly always: readonly CompiledTransition<C, E>[];
}

export interface CompiledMachine<C, E> {
  readonly id: string;
  readonly initial: number;
  readonly states: readonly CompiledState<C, E>[];
  readonly stateIndex: ReadonlyMap<string, number>;
}

// xstate's own types for state nodes and transition definitions are generic over the whole
// machine; this module reads them structurally, so a minimal local shape is enough.
interface NodeLike {
  key: string;
  type: string;
  entry: unknown[];
  exit: unknown[];
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  states: Record<string, NodeLike>;
  invoke: unknown[];
  after: unknown[];
}
interface TransitionLike {
  target?: NodeLike[] | undefined;
  guard?: unknown;
  actions: unknown[];
  reenter: boolean;
}

function nameOf(item: unknown, what: string, machineId: string): string {
  if (typeof item === 'string') return item;
  if (
    item !== null &&
    typeof item === 'object' &&
    'type' in item &&
    typeof item.type === 'string' &&
    !('params' in item && item.params !== undefined)
  ) {
    return item.type;
  }
  throw new Error(`machine "${machineId}": ${what} must be referenced by name (got ${String(item)})`);
}

/** Compile a flat machine (with its `.provide()`d implementations) into a transition table. */
export function compileMachine<C, E extends { type: string }>(machine: AnyStateMachine): CompiledMachine<C, E> {
  const root = machine.root as unknown as NodeLike;
  const id = machine.id;
  const impl = machine.implementations as {
    actions: Record<string, unknown>;
    guards: Record<string, unknown>;
  };
  const names = Object.keys(root.states);
  const stateIndex = new Map(names.map((n, i) => [n, i]));

  const action = (item: unknown): Action<C, E> => {
    const name = nameOf(item, 'an action', id);
    const fn = impl.actions[name];
    if (typeof fn !== 'function') throw new Error(`machine "${id}": action "${name}" has no implementation`);
    return fn as Action<C, E>;
  };
  const guard = (item: unknown): Guard<C, E> | undefined => {
    if (item === undefined) return undefined;
    const name = nameOf(item, 'a guard', id);
    const fn = impl.guards[name];
    if (typeof fn !== 'function') throw new Error(`machine "${id}": guard "${name}" has no implementation`);
    return fn as Guard<C, E>;
  };
  const transition = (t: TransitionLike): CompiledTransition<C, E> => {
    if (t.reenter) throw new Error(`machine "${id}": reentering transitions are not supported`);
    const targets = t.target ?? [];
    if (targets.length > 1) throw new Error(`machine "${id}": multiple targets are not supported`);
    const targetNode = targets[0];
    const target = targetNode === undefined ? -1 : stateIndex.get(targetNode.key);
    if (target === undefined) throw new Error(`machine "${id}": unknown target "${targetNode?.key}"`);
    return { target, guard: guard(t.guard), actions: t.actions.map(action) };
  };

  const states = names.map((name): CompiledState<C, E> => {
    const node = root.states[name]!;
    if (node.type !== 'atomic' && node.type !== 'final') {
      throw new Error(`machine "${id}": state "${name}" is ${node.type}; only flat atomic/final states compile`);
    }
    if (node.invoke.length > 0 || node.after.length > 0) {
      throw new Error(`machine "${id}": state "${name}" uses invoke/after, which the table runner does not support`);
    }
    const on = new Map<string, CompiledTransition<C, E>[]>();
    for (const [eventType, list] of node.transitions) on.set(eventType, list.map(transition));
    return {
      name,
      final: node.type === 'final',
      entry: node.entry.map(action),
      exit: node.exit.map(action),
      on,
      always: (node.always ?? []).map(transition),
    };
  });

  const rootInitial = (machine.root as unknown as { initial?: { target: NodeLike[] } }).initial;
  const initialName = rootInitial?.target[0]?.key;
  const initial = initialName === undefined ? undefined : stateIndex.get(initialName);
  if (initial === undefined) throw new Error(`machine "${id}": no initial state`);
  return { id, initial, states, stateIndex };
}

/**
 * One running instance of a compiled machine. Cheap to create (no allocation beyond the object)
 * and to reset, so one runner can live as long as its connection and serve every request on it.
 */
export class MachineRunner<C, E extends { type: string }> {
  #table: CompiledMachine<C, E>;
  #state: number;
  #done = false;
  #busy = false;
  #queue: E[] = [];
  readonly context: C;

  constructor(table: CompiledMachine<C, E>, context: C, initEvent: E) {
    this.#table = table;
    this.context = context;
    this.#state = table.initial;
    this.#enter(initEvent);
  }

  /** The current state's name, as in the machine definition. */
  get state(): string {
    return this.#table.states[this.#state]!.name;
  }

  get done(): boolean {
    return this.#done;
  }

  send(event: E): void {
    if (this.#busy) {
      this.#queue.push(event);
      return;
    }
    this.#busy = true;
    try {
      this.#step(event);
      while (this.#queue.length > 0) this.#step(this.#queue.shift()!);
    } finally {
      this.#busy = false;
    }
  }

  #enter(event: E): void {
    this.#busy = true;
    try {
      const args = { context: this.context, event };
      for (const act of this.#table.states[this.#state]!.entry) act(args);
      this.#settle(args);
      while (this.#queue.length > 0) this.#step(this.#queue.shift()!);
    } finally {
      this.#busy = false;
    }
  }

  #step(event: E): void {
    if (this.#done) return;
    const candidates = this.#table.states[this.#state]!.on.get(event.type);
    if (candidates === undefined) return;
    const args = { context: this.context, event };
    const chosen = pick(candidates, args);
    if (chosen === undefined) return;
    this.#take(chosen, args);
    this.#settle(args);
  }

  #settle(args: ActionArgs<C, E>): void {
    for (;;) {
      const state = this.#table.states[this.#state]!;
      if (state.final) {
        this.#done = true;
        return;
      }
      if (state.always.length === 0) return;
      const chosen = pick(state.always, args);
      if (chosen === undefined) return;
      this.#take(chosen, args);
      // A targetless eventless transition would loop forever; xstate refuses it as well.
      if (chosen.target === -1) return;
    }
  }

  #take(t: CompiledTransition<C, E>, args: ActionArgs<C, E>): void {
    if (t.target === -1) {
      for (const act of t.actions) act(args);
      return;
    }
    const table = this.#table;
    for (const act of table.states[this.#state]!.exit) act(args);
    for (const act of t.actions) act(args);
    this.#state = t.target;
    for (const act of table.states[t.target]!.entry) act(args);
  }
}

function pick<C, E>(list: readonly CompiledTransition<C, E>[], args: ActionArgs<C, E>): CompiledTransition<C, E> | undefined {
  for (const t of list) if (t.guard === undefined || t.guard(args)) return t;
  return undefined;
}
