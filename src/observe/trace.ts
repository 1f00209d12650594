// src/observe/trace.ts: the `trace` option. One JSON line per event a machine processed, from the same
// inspection stream as `inspect`:
//
//   {"t":12.381,"connection":7,"actor":"channel","from":"reading","event":"request.complete","to":"dispatched"}
//
// `t` is milliseconds since the server started, `connection` the channel's id (null for the
// dispatcher and the supervisor), `from` and `to` the state before and after (the same when the
// event changed no state). `waitstate-trace FILE` reads it back (src/cli/trace.ts).

import type { InspectionEvent } from 'xstate';
import type { LogOutput } from '../config/options.js';
import type { InspectionObserver } from '../runtime/machine.js';

export interface TraceLine {
  readonly t: number;
  readonly connection: number | null;
  readonly actor: string;
  readonly from: string;
  readonly event: string;
  readonly to: string;
}

/** A machine's shell that belongs to a connection says which (Channel.id; Task and RequestReader: connectionId). */
interface ConnectionShell {
  readonly id?: number;
  readonly connectionId?: number;
}

const stateName = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** An inspection observer that writes trace lines to `output`. */
export function traceObserver(output: LogOutput, now: () => number = () => performance.now()): (event: InspectionEvent) => void {
  const started = now();
  const lastState = new WeakMap<object, string>();
  return (inspection) => {
    if (inspection.type !== '@xstate.snapshot') return;
    const snapshot = inspection.snapshot as { value?: unknown; context?: { shell?: ConnectionShell } };
    const to = stateName(snapshot.value);
    const actorRef = inspection.actorRef as object & { logic?: { id?: string } };
    const from = lastState.get(actorRef) ?? '(start)';
    lastState.set(actorRef, to);
    const shell = snapshot.context?.shell;
    const line: TraceLine = {
      t: Math.round((now() - started) * 1000) / 1000,
      connection: shell?.connectionId ?? shell?.id ?? null,
      actor: actorRef.logic?.id ?? 'actor',
      from,
      event: inspection.event.type,
      to,
    };
    output.write(`${JSON.stringify(line)}\n`);
  };
}

/** One observer for all those given (inspect and trace both on); undefined when none is. */
export function combineObservers(...given: (InspectionObserver | undefined)[]): InspectionObserver | undefined {
  const observers = given.filter((o): o is InspectionObserver => o !== undefined);
  if (observers.length <= 1) return observers[0];
  return (event: InspectionEvent) => {
    for (const observer of observers) {
      if (typeof observer === 'function') observer(event);
      else observer.next?.(event);
    }
  };
}
