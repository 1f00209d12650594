// src/runtime/table.ts: run a flat xstate machine from a table compiled out of its own definition.
//
// Why: an xstate actor costs ~3.5 µs per event and ~14 µs to create (docs/architecture.md, "How the machines
// run"); a request needs several events across the channel, parser and task machines, which
// would cost more than node:http spends on a whole request. The machine definitions stay the
// single source of truth: `compileMachine()` reads the states, transitions, guards and actions
// that xstate itself built from the definition, and `MachineRunner` steps through them with the
// same semantics as xstate v5 for the subset we use. test/runtime/table.test.ts proves the two
// agree (state, context, executed actions and their arguments) on random event sequences and on a
// tour of every transition, for every machine we ship, and for two machines sending to each other.
//
// Supported subset (compileMachine throws, naming the machine and the construct, on anything else,
// so a machine cannot drift out of it):
// - flat machines: top-level atomic or final states; no nesting, parallel or history states;
// - `on` transitions, on a state or on the machine root, keyed by exact event types (no `*`), with
//   at most one target, an optional guard and actions; no `always`, `after`, `invoke`, `reenter`;
// - guards and actions referenced by name (no params), implemented as plain functions, except
//   that a named action may be an `assign` (a plain object of values or of property assigners, or
//   an assigner function); no other built-in action (raise, sendTo, emit, log, enqueueActions,
//   spawnChild, stopChild, cancel…), no higher-level guard (not, and, or, stateIn);
// - `entry` / `exit` actions on states, except `exit` on a final state; none on the root;
// - context from the machine's `context`: an object, or a function of `input`.
// Guards and actions get `context` and `event`; assigners get `context` and `event`, the context
// function `input`; their `spawn`, `self` and `system` throw, since no actor exists.
//
// Semantics mirrored from xstate v5 (node_modules/xstate, raise-*.esm.js: macrostep, microstep,
// transitionAtomicNode, getTransitionDomain, resolveAndExecuteActionsWithContext; Actor and Mailbox):
// - the initial state's entry actions see xstate's init event, `{ type: 'xstate.init', input }`.
// - an event picks the first transition whose guard passes among the current state's candidates
//   for its type, then among the root's (event bubbling); with none, it is ignored. Guards see the
//   context as it was before the event.
// - a targetless transition, or a state's transition to itself, runs its actions only; a targeted
//   one runs exit(current), its actions, entry(target), in that order. A root transition always
//   exits the current state and enters its target, even when that is the current state.
// - actions run in document order; an `assign` replaces the context with a new object (xstate's
//   Object.assign({}, context, update)) that the actions after it see, and later guards read.
// - the state (and `done`) the outside sees changes when the event's macrostep is over, as an
//   actor's snapshot does: an action that asks for it sees the state before the event.
// - an event sent to an idle runner is processed at once, inside the sender's action if that is
//   where it came from; one sent to a runner while it processes one (from its own action, or from
//   an action of another machine it called into) waits in its queue and runs after the current
//   macrostep, as in xstate's mailbox. A final state stops the runner; events still queued are dropped.
// - there are no eventless (`always`) transitions: no machine uses them, so the runner has no code
//   for them and the compiler refuses them.

import type { AnyStateMachine } from 'xstate';

/** The argument xstate passes to guards and actions; the runner passes the same shape. */
interface ActionArgs<C, E> {
  readonly context: C;
  readonly event: E;
}
type Guard<C, E> = (args: ActionArgs<C, E>) => boolean;
type Effect<C, E> = (args: ActionArgs<C, E>) => void;

/** What a compiled runner cannot give an assigner or a context function: there is no actor. */
function noActor(where: string, what: string): never {
  throw new Error(`${where} uses ${what}, which the compiled machine runner does not give (no actor exists)`);
}

/** What xstate offers a context function or an assigner and the runner does not: actors. */
class WithoutActors {
  readonly #where: string;
  constructor(where: string) {
    this.#where = where;
  }
  get spawn(): never {
    return noActor(this.#where, 'spawn');
  }
  get self(): never {
    return noActor(this.#where, 'self');
  }
  get system(): never {
    return noActor(this.#where, 'system');
  }
}

/** The argument of an assigner, as xstate's resolveAssign builds it. */
class AssignArgs<C, E> extends WithoutActors {
  constructor(
    readonly context: C,
    readonly event: E,
    where: string,
  ) {
    super(where);
  }
}

/** The argument of a machine's `context` function, as xstate's _getPreInitialState builds it. */
class ContextArgs extends WithoutActors {
  constructor(
    readonly input: unknown,
    where: string,
  ) {
    super(where);
  }
}

type Assigner<C, E> = (args: AssignArgs<C, E>, params: undefined) => unknown;

/** A named xstate `assign`: runs as xstate's resolveAssign does, into a new context object. */
class ContextAssignment<C, E> {
  readonly #assigner: Assigner<C, E> | undefined;
  readonly #properties: ReadonlyMap<string, unknown> | undefined;
  /** The update when every property is a plain value: computed once. */
  readonly #constant: object | undefined;
  /** The machine and action, for errors. */
  readonly #where: string;

  constructor(assignment: unknown, where: string) {
    this.#where = where;
    if (typeof assignment === 'function') {
      this.#assigner = assignment as Assigner<C, E>;
      return;
    }
    const properties = new Map(Object.entries(assignment as object));
    if ([...properties.values()].every((value) => typeof value !== 'function')) this.#constant = Object.fromEntries(properties);
    else this.#properties = properties;
  }

  apply(context: C, event: E): C {
    return Object.assign({}, context, this.#update(context, event)) as C;
  }

  #update(context: C, event: E): unknown {
    if (this.#constant !== undefined) return this.#constant;
    const args = new AssignArgs(context, event, this.#where);
    if (this.#assigner !== undefined) return this.#assigner(args, undefined);
    const update: Record<string, unknown> = {};
    for (const [key, value] of this.#properties!) {
      update[key] = typeof value === 'function' ? (value as Assigner<C, E>)(args, undefined) : value;
    }
    return update;
  }
}

/**
 * What one microstep runs, flattened in xstate's order: exit(current), the transition's actions,
 * entry(target). Machines that never assign run a list of plain functions.
 */
type ActionList<C, E> =
  | { readonly assigns: false; readonly actions: readonly Effect<C, E>[] }
  | { readonly assigns: true; readonly actions: readonly (Effect<C, E> | ContextAssignment<C, E>)[] };

type CompiledTransition<C, E> = ActionList<C, E> & {
  /** The state index entered, or -1 when the transition stays where it is without exit/entry. */
  readonly target: number;
  /** True when the target is final: the runner stops. */
  readonly final: boolean;
  readonly guard: Guard<C, E> | undefined;
};

interface CompiledState<C, E> {
  readonly name: string;
  /** The state's own candidates for each event type, followed by the root's (bubbling). */
  readonly on: ReadonlyMap<string, readonly CompiledTransition<C, E>[]>;
}

export interface CompiledMachine<C, E> {
  readonly initial: number;
  /** Whether the initial state is final: the runner is done at once. */
  readonly initialFinal: boolean;
  readonly initialEntry: ActionList<C, E>;
  readonly states: readonly CompiledState<C, E>[];
  /** The context a runner starts with, from the input it is given. */
  initialContext(input: unknown): C;
}

// xstate's own types for state nodes and transition definitions are generic over the whole
// machine; this module reads them structurally, so a minimal local shape is enough.
interface NodeLike {
  key: string;
  type: string;
  parent?: NodeLike;
  config: Record<string, unknown>;
  entry: unknown[];
  exit: unknown[];
  transitions: Map<string, TransitionLike[]>;
  states: Record<string, NodeLike>;
}
interface TransitionLike {
  target?: NodeLike[] | undefined;
  guard?: unknown;
  actions: unknown[];
  reenter: boolean;
}

/** Keys a state's config may hold; anything else names a construct the runner does not run. */
const STATE_KEYS = new Set(['type', 'on', 'entry', 'exit', 'description', 'meta']);
const ROOT_KEYS = new Set(['id', 'type', 'initial', 'context', 'states', 'on', 'description', 'meta', 'types', 'version']);
/** Keys of a formatted transition: its config's (target, guard, actions, description, meta, reenter) and xstate's own. */
const TRANSITION_KEYS = new Set(['target', 'guard', 'actions', 'description', 'meta', 'reenter', 'source', 'eventType', 'toJSON']);
const CONSTRUCTS: Readonly<Record<string, string>> = {
  always: 'eventless transitions (`always`)',
  after: 'delayed transitions (`after`)',
  invoke: 'invoked actors (`invoke`)',
  states: 'nested states',
  initial: 'nested states',
  onDone: '`onDone`',
  output: '`output`',
  entry: 'entry actions',
  exit: 'exit actions',
};
const STATE_TYPES: Readonly<Record<string, string>> = {
  compound: 'a nested (compound) state',
  parallel: 'a parallel state',
  history: 'a history state',
};

/** Compiles one machine; each method refuses, by name, what the runner does not run. */
class Compiler<C, E extends { type: string }> {
  readonly #machine: AnyStateMachine;
  readonly #id: string;
  readonly #root: NodeLike;
  readonly #actions: Record<string, unknown>;
  readonly #guards: Record<string, unknown>;
  readonly #nodes: readonly NodeLike[];

  constructor(machine: AnyStateMachine) {
    this.#machine = machine;
    this.#id = machine.id;
    this.#root = machine.root as unknown as NodeLike;
    const impl = machine.implementations as { actions: Record<string, unknown>; guards: Record<string, unknown> };
    this.#actions = impl.actions;
    this.#guards = impl.guards;
    this.#nodes = Object.values(this.#root.states);
  }

  #refuse(what: string): never {
    throw new Error(`machine "${this.#id}": ${what}, which the compiled machine runner does not run`);
  }

  compile(): CompiledMachine<C, E> {
    if (this.#root.type !== 'compound') this.#refuse(`the root is ${STATE_TYPES[this.#root.type] ?? `of type ${this.#root.type}`}`);
    this.#checkKeys('the root', this.#machine.config as Record<string, unknown>, ROOT_KEYS);
    for (const node of this.#nodes) this.#checkState(node);
    const rootTransitions = this.#transitionsOf(this.#root);
    const states = this.#nodes.map((node): CompiledState<C, E> => {
      const on = new Map<string, CompiledTransition<C, E>[]>();
      if (node.type === 'final') return { name: node.key, on };
      for (const [eventType, list] of this.#transitionsOf(node)) {
        const own = list.map((t) => this.#transition(node, t, false));
        on.set(eventType, own);
      }
      // xstate's transitionAtomicNode: when the state has no enabled transition, the root's are tried.
      for (const [eventType, list] of rootTransitions) {
        const fromRoot = list.map((t) => this.#transition(node, t, true));
        on.set(eventType, [...(on.get(eventType) ?? []), ...fromRoot]);
      }
      return { name: node.key, on };
    });
    const initialNode = (this.#root as unknown as { initial?: { target: NodeLike[] } }).initial?.target[0];
    if (initialNode === undefined) this.#refuse('a machine without an initial state');
    const initial = this.#nodes.indexOf(initialNode);
    return {
      initial,
      initialFinal: initialNode.type === 'final',
      initialEntry: this.#list(initialNode.entry),
      states,
      initialContext: this.#initialContext(),
    };
  }

  #checkKeys(where: string, config: Record<string, unknown>, allowed: ReadonlySet<string>): void {
    for (const key of Object.keys(config)) {
      if (config[key] !== undefined && !allowed.has(key)) this.#refuse(`${where} uses ${CONSTRUCTS[key] ?? `\`${key}\``}`);
    }
  }

  #checkState(node: NodeLike): void {
    const where = `state "${node.key}"`;
    if (node.type !== 'atomic' && node.type !== 'final') this.#refuse(`${where} is ${STATE_TYPES[node.type] ?? `of type ${node.type}`}`);
    this.#checkKeys(where, node.config, STATE_KEYS);
    if (node.type === 'final' && node.exit.length > 0) this.#refuse(`final ${where} has exit actions`);
  }

  #transitionsOf(node: NodeLike): Map<string, TransitionLike[]> {
    const where = node === this.#root ? 'the root' : `state "${node.key}"`;
    for (const [eventType, list] of node.transitions) {
      if (eventType.includes('*')) this.#refuse(`${where} uses the wildcard event descriptor "${eventType}"`);
      if (eventType.startsWith('xstate.')) this.#refuse(`${where} has a transition on the built-in event "${eventType}"`);
      for (const t of list) {
        const extra = Object.keys(t).find((key) => !TRANSITION_KEYS.has(key));
        if (extra !== undefined) this.#refuse(`${where} has a "${eventType}" transition with \`${extra}\``);
        if (t.reenter) this.#refuse(`${where} has a reentering "${eventType}" transition`);
        if ((t.target?.length ?? 0) > 1) this.#refuse(`${where} has a "${eventType}" transition with multiple targets`);
      }
    }
    return node.transitions;
  }

  /** A transition as taken from `source` (a state; for a root transition, the current state). */
  #transition(source: NodeLike, t: TransitionLike, fromRoot: boolean): CompiledTransition<C, E> {
    const targetNode = t.target?.[0];
    if (targetNode !== undefined && targetNode.parent !== this.#root) {
      this.#refuse(`a transition to "${targetNode.key}", outside the top level`);
    }
    const guard = this.#guard(t.guard);
    // xstate's getTransitionDomain: a state's transition to itself (not reentering) stays, exiting
    // and entering nothing; the root's transitions exit the current state whatever their target.
    if (targetNode === undefined || (targetNode === source && !fromRoot)) {
      return { target: -1, final: false, guard, ...this.#list(t.actions) };
    }
    return {
      target: this.#nodes.indexOf(targetNode),
      final: targetNode.type === 'final',
      guard,
      ...this.#list([...source.exit, ...t.actions, ...targetNode.entry]),
    };
  }

  #list(items: readonly unknown[]): ActionList<C, E> {
    const actions = items.map((item) => this.#action(item));
    if (actions.some((a) => a instanceof ContextAssignment)) return { assigns: true, actions };
    return { assigns: false, actions: actions as Effect<C, E>[] };
  }

  #nameOf(item: unknown, what: string): string {
    if (typeof item === 'string') return item;
    if (item !== null && typeof item === 'object' && 'type' in item && typeof item.type === 'string') {
      if ('params' in item && item.params !== undefined) this.#refuse(`${what} "${item.type}" with params`);
      return item.type;
    }
    const type = typeof item === 'function' && 'type' in item ? ` (${String(item.type)})` : '';
    return this.#refuse(`${what} that is not referenced by name${type}`);
  }

  #action(item: unknown): Effect<C, E> | ContextAssignment<C, E> {
    const name = this.#nameOf(item, 'an action');
    const fn = this.#actions[name];
    if (typeof fn !== 'function') return this.#refuse(`action "${name}", which has no implementation`);
    // xstate's built-in actions are functions carrying `resolve` (resolveAndExecuteActionsWithContext).
    if (!('resolve' in fn)) return fn as Effect<C, E>;
    const type = 'type' in fn ? String(fn.type) : 'unknown';
    if (type !== 'xstate.assign' || !('assignment' in fn)) this.#refuse(`action "${name}" is the built-in ${type}`);
    const assignment = fn.assignment;
    if (typeof assignment !== 'function' && (assignment === null || typeof assignment !== 'object')) {
      this.#refuse(`action "${name}" assigns ${String(assignment)}`);
    }
    return new ContextAssignment<C, E>(assignment, `machine "${this.#id}": action "${name}"`);
  }

  #guard(item: unknown): Guard<C, E> | undefined {
    if (item === undefined) return undefined;
    const name = this.#nameOf(item, 'a guard');
    const fn = this.#guards[name];
    if (typeof fn !== 'function') return this.#refuse(`guard "${name}", which has no implementation`);
    // Higher-level guards (not, and, or, stateIn) are functions carrying `check` (evaluateGuard).
    if ('check' in fn) this.#refuse(`guard "${name}" is a higher-level guard`);
    return fn as Guard<C, E>;
  }

  /**
   * xstate starts from the machine's `context`: an object as it is, or what the function makes of
   * the input. The function is tried once here: if it hands the input back (our machines'
   * `({ input }) => input`), a runner takes its input as its context and calls nothing.
   */
  #initialContext(): (input: unknown) => C {
    const context = (this.#machine.config as { context?: unknown }).context;
    if (typeof context !== 'function') return () => (context ?? {}) as C;
    const make = context as (args: ContextArgs) => C;
    const where = `machine "${this.#id}": \`context\``;
    const probe = {};
    let isInput = false;
    try {
      isInput = make(new ContextArgs(probe, where)) === probe;
    } catch {
      // The function needs a real input: it is called for each runner.
    }
    return isInput ? (input) => input as C : (input) => make(new ContextArgs(input, where));
  }
}

/** Compile a flat machine (with its `.provide()`d implementations) into a transition table. */
export function compileMachine<C, E extends { type: string }>(machine: AnyStateMachine): CompiledMachine<C, E> {
  return new Compiler<C, E>(machine).compile();
}

/**
 * One running instance of a compiled machine. Cheap to create (no allocation beyond the object)
 * and to reset, so one runner can live as long as its connection and serve every request on it.
 */
export class MachineRunner<C, E extends { type: string }> {
  readonly #table: CompiledMachine<C, E>;
  /** The state the outside sees: it moves when a macrostep is over. */
  #state: number;
  #context: C;
  #done: boolean;
  #busy = false;
  readonly #queue: E[] = [];

  /** `input` is what xstate's createActor would be given; the machine's `context` makes the context of it. */
  constructor(table: CompiledMachine<C, E>, input: unknown) {
    this.#table = table;
    this.#context = table.initialContext(input);
    this.#state = table.initial;
    // xstate's Actor.start publishes the initial snapshot before it runs the initial entry actions.
    this.#done = table.initialFinal;
    if (table.initialEntry.actions.length === 0) return;
    this.#busy = true;
    try {
      // xstate's createInitEvent: what the initial entry actions see as their event.
      this.#run(table.initialEntry, { context: this.#context, event: { type: 'xstate.init', input } as unknown as E });
      this.#drain();
    } finally {
      this.#busy = false;
    }
  }

  /** The current state's name, as in the machine definition. */
  get state(): string {
    return this.#table.states[this.#state]!.name;
  }

  get done(): boolean {
    return this.#done;
  }

  get context(): C {
    return this.#context;
  }

  send(event: E): void {
    if (this.#busy) {
      this.#queue.push(event);
      return;
    }
    this.#busy = true;
    try {
      this.#step(event);
      if (this.#queue.length > 0) this.#drain();
    } finally {
      this.#busy = false;
    }
  }

  #drain(): void {
    while (this.#queue.length > 0) this.#step(this.#queue.shift()!);
  }

  /** One macrostep: xstate's macrostep for a machine without eventless transitions. */
  #step(event: E): void {
    if (this.#done) return;
    const candidates = this.#table.states[this.#state]!.on.get(event.type);
    if (candidates === undefined) return;
    const args = { context: this.#context, event };
    const chosen = pick(candidates, args);
    if (chosen === undefined) return;
    this.#run(chosen, args);
    if (chosen.target === -1) return;
    this.#state = chosen.target;
    this.#done = chosen.final;
  }

  #run(list: ActionList<C, E>, args: ActionArgs<C, E>): void {
    if (!list.assigns) {
      for (const act of list.actions) act(args);
      return;
    }
    let current = args;
    for (const act of list.actions) {
      if (act instanceof ContextAssignment) {
        this.#context = act.apply(current.context, current.event);
        current = { context: this.#context, event: current.event };
      } else {
        act(current);
      }
    }
  }
}

function pick<C, E>(list: readonly CompiledTransition<C, E>[], args: ActionArgs<C, E>): CompiledTransition<C, E> | undefined {
  for (const t of list) if (t.guard === undefined || t.guard(args)) return t;
  return undefined;
}
