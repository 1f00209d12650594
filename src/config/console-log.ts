// src/config/console-log.ts: the logger `serve()` uses when it is given none (and the one the CLI's own
// lines go through). Every line carries its time and level, so that a server log read later says
// when and how bad: as text (`2026-11-28T08:03:19.123Z ERROR message`) or as pino's JSON lines
// (`{"level":50,"time":…,"pid":…,"hostname":…,"err":{…},"msg":"…"}`), chosen by `logFormat`.
//
// Every level goes to stderr: Waitress's lines do (Python logging's StreamHandler), as do gunicorn's
// and uvicorn's, and stdout stays for the data streams (`accessLog` and `trace` at `-`), so that a
// reader of one stream meets one kind of line. pino writes to stdout; node:http logs nothing.
//
// Nothing here runs unless a line is logged: a request that logs nothing costs nothing.

import { hostname } from 'node:os';
import { inspect, types } from 'node:util';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

type Level = 'error' | 'warn' | 'info';

/** pino's numbers for the levels, so that pino-pretty and log shippers read the lines as pino's. */
const PINO_LEVELS: Readonly<Record<Level, number>> = { error: 50, warn: 40, info: 30 };
/** One width, so that the messages line up. */
const TEXT_LEVELS: Readonly<Record<Level, string>> = { error: 'ERROR', warn: 'WARN ', info: 'INFO ' };

/** Objects as console shows them, without colours (a log is read from a file as often as from a terminal). */
const INSPECT_OPTIONS = { colors: false } as const;

/** What waitstate logs through: console's three methods, called as console is (a message, then an error). */
export interface Logger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
}

const isError = (value: unknown): value is Error => value instanceof Error || types.isNativeError(value);

/**
 * The arguments as one message, as console would print them, but each string taken as it is:
 * console's printf-style `%s` would take a request target such as `/a%sb` for a placeholder.
 */
function messageOf(args: readonly unknown[]): string {
  return args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, INSPECT_OPTIONS))).join(' ');
}

/**
 * `2026-11-28T08:03:19.123Z INFO  message`. The lines after a message's first (a stack, an error's
 * fields) are indented, so that every line that starts with a time starts an entry: a message
 * cannot pass one of its own lines off as an entry of its own.
 */
export function textLine(level: Level, time: number, args: readonly unknown[]): string {
  return `${new Date(time).toISOString()} ${TEXT_LEVELS[level]} ${messageOf(args).replace(/\r\n|\r|\n/g, '\n  ')}\n`;
}

/** The error and its causes, `what` of each joined by `glue`, as pino's messageWithCauses and stackWithCauses do. */
function withCauses(error: Error, what: (error: Error) => string, glue: string): string {
  const chain: string[] = [];
  const seen = new Set<Error>();
  for (let e: unknown = error; isError(e) && !seen.has(e); e = e.cause) {
    seen.add(e);
    chain.push(what(e));
  }
  return chain.join(glue);
}

/**
 * An error as pino's standard `err` serializer writes it: `type`, `message` and `stack` with
 * those of its causes appended, an AggregateError's `aggregateErrors`, and its own enumerable
 * fields (`code`, `status`, …).
 */
export function serializeError(error: Error, seen: Set<Error> = new Set()): Record<string, unknown> {
  seen.add(error);
  const constructorName = (error.constructor as { name?: unknown } | undefined)?.name;
  const record: Record<string, unknown> = {
    // An error rebuilt from a worker thread is an Error named after its original class.
    type: typeof constructorName === 'string' && constructorName !== 'Error' ? constructorName : error.name,
    message: withCauses(error, (e) => e.message, ': '),
    stack: withCauses(error, (e) => e.stack ?? `${e.name}: ${e.message}`, '\ncaused by: '),
  };
  const nested = (value: unknown) => (isError(value) ? (seen.has(value) ? '[Circular]' : serializeError(value, seen)) : value);
  if (error instanceof AggregateError && Array.isArray(error.errors)) record['aggregateErrors'] = error.errors.map(nested);
  for (const [key, value] of Object.entries(error)) {
    // The cause is in the message and the stack already.
    if (key in record || (key === 'cause' && isError(value))) continue;
    record[key] = nested(value);
  }
  return record;
}

/** JSON that never throws: a BigInt as its digits, an object met again as "[Circular]". */
function stringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(record, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (value !== null && typeof value === 'object') {
        if (seen.has(value)) return '[Circular]';
        seen.add(value);
      }
      return value;
    });
  }
}

/**
 * pino's line: level, time (ms since the epoch), pid, hostname, then the first error of the
 * arguments as `err` and the message as `msg`, an error standing in it for its message (as pino's
 * msg is the error's message when it is logged alone). One line, whatever the message holds.
 */
export function jsonLine(level: Level, time: number, args: readonly unknown[], origin: { pid: number; hostname: string }): string {
  const error = args.find(isError);
  const msg = args.map((arg) => (isError(arg) ? arg.message : typeof arg === 'string' ? arg : inspect(arg, INSPECT_OPTIONS))).join(' ');
  const record: Record<string, unknown> = { level: PINO_LEVELS[level], time, pid: origin.pid, hostname: origin.hostname };
  if (error !== undefined) record['err'] = serializeError(error);
  record['msg'] = msg;
  return `${stringify(record)}\n`;
}

/** A logger writing each line, stamped with its time and level, to `output` (stderr). */
export function consoleLogger(
  format: LogFormat,
  output: { write(line: string): unknown } = process.stderr,
  now: () => number = Date.now,
): Logger {
  let line: (level: Level) => (...args: unknown[]) => void;
  if (format === 'json') {
    const origin = { pid: process.pid, hostname: hostname() };
    line =
      (level) =>
      (...args) =>
        void output.write(jsonLine(level, now(), args, origin));
  } else {
    line =
      (level) =>
      (...args) =>
        void output.write(textLine(level, now(), args));
  }
  return { error: line('error'), warn: line('warn'), info: line('info') };
}
