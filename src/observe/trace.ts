// src/observe/trace.ts: the `trace` option. One JSON line per event a machine processed, from the same
// inspection stream as `inspect`:
//
//   {"t":12.381,"connection":7,"actor":"channel","from":"reading","event":"request.complete","to":"dispatched"}
//
// `t` is milliseconds since the server started, `connection` the channel's id (null for the
// dispatcher and the supervisor), `from` and `to` the state before and after (the same when the
// event changed no state). Two lines say more, so that a trace shows which request was which:
// the parser's `head.parsed` carries `"request":"GET /hello"`, and the line of the event during
// which a response head went out carries its `"status":200`. `waitstate-trace FILE` reads it back
// (src/cli/trace.ts).

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
  /** The request's method and target, on the line where its head was parsed. */
  readonly request?: string;
  /** The status of the response head written during this event. */
  readonly status?: number;
}

/**
 * A machine's shell that belongs to a connection says which (Channel.id; Task and RequestReader:
 * connectionId); one that writes responses says the status of the last it wrote (0: none yet).
 */
interface ConnectionShell {
  readonly id?: number;
  readonly connectionId?: number;
  readonly statusSent?: number;
}

/** A request-target longer than this is cut in a trace line: the line names the request, it does not keep it. */
const TARGET_SHOWN = 200;

/** `GET /hello` from an event that carries a parsed request head (the parser's `head.parsed`). */
function requestOf(event: { type: string; head?: { method?: unknown; target?: unknown } }): string | undefined {
  const { method, target } = event.head ?? {};
  if (typeof method !== 'string' || typeof target !== 'string') return undefined;
  return `${method} ${target.length > TARGET_SHOWN ? `${target.slice(0, TARGET_SHOWN)}…` : target}`;
}

/** What a trace calls the state an actor was in before its first event, `xstate.init`. */
export const START = '(start)';

const stateName = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** An inspection observer that writes trace lines to `output`. */
export function traceObserver(output: LogOutput, now: () => number = () => performance.now()): (event: InspectionEvent) => void {
  const started = now();
  const lastState = new WeakMap<object, string>();
  const lastStatus = new WeakMap<object, number>();
  return (inspection) => {
    if (inspection.type !== '@xstate.snapshot') return;
    const snapshot = inspection.snapshot as { value?: unknown; context?: { shell?: ConnectionShell } };
    const to = stateName(snapshot.value);
    const actorRef = inspection.actorRef as object & { logic?: { id?: string } };
    const from = lastState.get(actorRef) ?? START;
    lastState.set(actorRef, to);
    const shell = snapshot.context?.shell;
    const request = requestOf(inspection.event);
    const statusSent = shell?.statusSent ?? 0;
    const status = statusSent !== (lastStatus.get(actorRef) ?? 0) ? statusSent : undefined;
    if (status !== undefined) lastStatus.set(actorRef, statusSent);
    const line: TraceLine = {
      t: Math.round((now() - started) * 1000) / 1000,
      connection: shell?.connectionId ?? shell?.id ?? null,
      actor: actorRef.logic?.id ?? 'actor',
      from,
      event: inspection.event.type,
      to,
      ...(request === undefined ? {} : { request }),
      ...(status === undefined ? {} : { status }),
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
