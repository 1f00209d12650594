// src/runtime/machine.ts: how a machine definition runs in the server.
//
// Two interpreters for the same definitions (machines/), chosen per server:
// - 'compiled' (default): the table built by src/runtime/table.ts from the definition, ~0.1 µs an
//   event, what the hot path can afford;
// - 'xstate': real xstate actors, ~3.5 µs an event, for watching and debugging (inspection).
// test/runtime/table.test.ts shows both take the same transitions and run the same actions.

import { createActor, type AnyStateMachine, type InspectionEvent, type Observer } from 'xstate';
import type { InspectionCallback, MachineRuntime } from '../config/options.js';
import { compileMachine, MachineRunner, type CompiledMachine } from './table.js';

/** Where xstate actors send inspection events (the `inspect` option). */
export type InspectionObserver = InspectionCallback | Observer<InspectionEvent>;

/** What the shell needs of a running machine, whichever interpreter runs it. */
export interface RunningMachine<E, C = unknown> {
  send(event: E): void;
  /** The current state's name. */
  readonly state: string;
  /** True once a final state is reached: later events are ignored. */
  readonly done: boolean;
  /**
   * The machine's context: what its assigns remembered. Read it between events: within a step,
   * the compiled runner shows an assign at once and an actor only once the step is over.
   */
  readonly context: C;
}

/** A definition run by a real xstate actor: what `machine_runtime: 'xstate'` (and inspection) asks for. */
class ActorRunner<E extends { type: string }, C> implements RunningMachine<E, C> {
  readonly #actor;
  constructor(logic: AnyStateMachine, input: unknown, onError: (error: unknown) => void, inspect: InspectionObserver | undefined) {
    this.#actor = createActor(logic, inspect === undefined ? { input } : { input, inspect });
    // A throwing action puts an actor in `error`; without an observer xstate rethrows it from a
    // timer and the process dies.
    this.#actor.subscribe({ error: onError });
    this.#actor.start();
  }
  send(event: E): void {
    if (this.done) return; // as the compiled runner does, without xstate's dev warning
    this.#actor.send(event);
  }
  get state(): string {
    return String(this.#actor.getSnapshot().value);
  }
  get done(): boolean {
    return this.#actor.getSnapshot().status !== 'active';
  }
  get context(): C {
    return this.#actor.getSnapshot().context as C;
  }
}

/**
 * A machine definition with its implementations provided, ready to run either way. `I` is what a
 * machine is started with, when its `context` function makes more of it than the input itself.
 */
export class RunnableMachine<C, E extends { type: string }, I = C> {
  readonly #logic: AnyStateMachine;
  readonly #table: CompiledMachine<C, E>;

  constructor(logic: AnyStateMachine) {
    this.#logic = logic;
    this.#table = compileMachine<C, E>(logic);
  }

  start(runtime: MachineRuntime, input: I, onError: (error: unknown) => void, inspect?: InspectionObserver): RunningMachine<E, C> {
    if (runtime === 'xstate') return new ActorRunner<E, C>(this.#logic, input, onError, inspect);
    return new MachineRunner<C, E>(this.#table, input);
  }
}
