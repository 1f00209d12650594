// src/options.ts: every server option, defined once.
//
// Each entry gives the library name (camelCase), the Waitress name (snake_case, accepted in
// config files), the CLI flag (kebab-case, derived), its type, default, help line and check.
// `resolveOptions()` validates a user's options against this table and throws an OptionError
// naming the option; the CLI parser and `--help` are generated from the same table.

import type { MachineRuntime } from './runtime.js';

export class OptionError extends Error {
  readonly code = 'WS_ERR_OPTION';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = 'OptionError';
  }
}

type Kind = 'string' | 'integer' | 'boolean' | 'list';

interface OptionSpec<T> {
  readonly kind: Kind;
  readonly default: T;
  readonly help: string;
  /** Waitress's name for it, when it differs from the snake_case of ours. */
  readonly waitress?: string;
  readonly min?: number;
  readonly check?: (value: T) => string | undefined;
}

const integer = (def: number, min: number, help: string): OptionSpec<number> => ({ kind: 'integer', default: def, min, help });

export const OPTIONS = {
  host: { kind: 'string', default: '', help: 'Interface to listen on (default 0.0.0.0 when listen is not given).' } as OptionSpec<string>,
  port: integer(8080, 0, 'TCP port to listen on (default 8080; 0 picks a free port).'),
  listen: {
    kind: 'list',
    default: [] as readonly string[],
    help: 'HOST:PORT to listen on; repeatable or space-separated ("127.0.0.1:8080 [::1]:8080"). Not with host/port.',
    check: (list) => list.map(checkListenEntry).find((m) => m !== undefined),
  } as OptionSpec<readonly string[]>,
  ident: {
    kind: 'string',
    default: 'waitstate',
    help: 'Server header value and the error page tag; empty sends no Server header.',
    check: (v) => (/^[\x20-\x7e]*$/.test(v) ? undefined : 'must be printable ASCII'),
  } as OptionSpec<string>,
  serverName: {
    kind: 'string',
    default: 'waitstate.invalid',
    help: 'info.serverName given to the app (Waitress: SERVER_NAME).',
  } as OptionSpec<string>,
  urlScheme: {
    kind: 'string',
    default: 'http',
    help: 'Scheme of request.url and info.urlScheme.',
    check: (v) => (/^[a-z][a-z0-9+.-]*$/.test(v) ? undefined : 'must be a URL scheme such as http or https'),
  } as OptionSpec<string>,
  maxRequestHeaderSize: integer(262144, 1, 'Largest request head in bytes; larger gets 431.'),
  maxRequestBodySize: integer(1073741824, 0, 'Largest request body in bytes; larger gets 413.'),
  exposeTracebacks: { kind: 'boolean', default: false, help: 'Put the app error stack in 500 bodies.' } as OptionSpec<boolean>,
  inbufOverflow: integer(524288, 0, 'Bytes of a request body kept in memory; beyond, the body goes to a temp file.'),
  outbufOverflow: integer(1048576, 0, 'Bytes of output waiting for a slow client kept in memory; beyond, it waits in a temp file.'),
  outbufHighWatermark: integer(
    16777216,
    1,
    'Bytes of a response waiting for a slow client before the app (or its worker) is made to wait.',
  ),
  connectionLimit: integer(100, 1, 'Open connections served at once; more wait, unread, until one closes.'),
  backlog: integer(1024, 1, 'listen() backlog; also how many connections may wait beyond connection_limit.'),
  channelTimeout: integer(120, 1, 'Seconds an idle connection is kept (no bytes in or out, no request running).'),
  cleanupInterval: integer(30, 1, 'Seconds between sweeps for idle connections.'),
  threads: {
    kind: 'integer',
    default: 0,
    min: 0,
    help: 'Worker threads running the app; 0 runs it inline on the main thread. waitstate-serve defaults to 4, like waitress-serve.',
  } as OptionSpec<number>,
  dispatchWindow: integer(
    8,
    1,
    'Tasks one worker thread may hold, run one after another; 1 is Waitress (a thread takes a task only when free). ' +
      'More means fewer messages under load; a worker whose task waits on I/O hands back the ones it has not started.',
  ),
  processes: integer(1, 1, 'Processes (node:cluster) sharing the listeners, each its own server: the way to use every core.'),
  overrideGlobalObjects: {
    kind: 'boolean',
    default: true,
    help: 'Replace globalThis.Response with a lightweight one while serving (like @hono/node-server).',
  } as OptionSpec<boolean>,
  machineRuntime: {
    kind: 'string',
    default: 'compiled',
    help: 'How the machines run: compiled (tables built from the definitions, fast) or xstate (real actors, for inspection).',
    check: (v) => (v === 'compiled' || v === 'xstate' ? undefined : 'must be "compiled" or "xstate"'),
  } as OptionSpec<MachineRuntime>,
} as const;

export type OptionName = keyof typeof OPTIONS;
type ValueOf<S> = S extends OptionSpec<infer T> ? T : never;
export type Settings = { -readonly [K in OptionName]: ValueOf<(typeof OPTIONS)[K]> };

/** What `serve()` accepts: any subset of the options, plus a logger. */
export type ServeOptions = Partial<Settings> & { logger?: Logger };

export interface Logger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
}

/** `--max-request-body-size` for `maxRequestBodySize`. */
export function flagOf(name: string): string {
  return '--' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function checkListenEntry(entry: string): string | undefined {
  return parseListenEntry(entry, 8080) === undefined ? `"${entry}" is not HOST:PORT ([::1]:8080 for IPv6)` : undefined;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:8080`, `[::1]:8080`, `*:8080` (every interface), or a bare host (default port). */
export function parseListenEntry(entry: string, defaultPort: number): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]*))(?::(\d{1,5}))?$/.exec(entry);
  if (m === null) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port > 65535 || host === '') return undefined;
  return { host: host === '*' ? '::' : host, port };
}

/** Validate user options against the table; unknown names and bad values throw OptionError. */
export function resolveOptions(user: Record<string, unknown>): Settings & { logger: Logger } {
  const settings: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, OptionSpec<unknown>][]) {
    settings[name] = spec.default;
  }
  let logger: Logger = console;
  for (const [name, value] of Object.entries(user)) {
    if (value === undefined) continue;
    if (name === 'logger') {
      if (!isLogger(value)) throw new OptionError('logger', 'must have error, warn and info methods (console works)');
      logger = value;
      continue;
    }
    if (!(name in OPTIONS)) throw new OptionError(name, 'is not an option of waitstate');
    const spec = OPTIONS[name as OptionName] as OptionSpec<unknown>;
    settings[name] = checkValue(name, spec, value);
  }
  const s = settings as Settings;
  if (s.listen.length > 0 && ('host' in user || 'port' in user) && (user['host'] !== undefined || user['port'] !== undefined)) {
    throw new OptionError('listen', 'cannot be combined with host or port');
  }
  return { ...s, logger };
}

function isLogger(value: unknown): value is Logger {
  return (
    typeof value === 'object' &&
    value !== null &&
    ['error', 'warn', 'info'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
  );
}

function checkValue(name: string, spec: OptionSpec<unknown>, value: unknown): unknown {
  let v = value;
  switch (spec.kind) {
    case 'integer':
      if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) v = Number(v.trim());
      if (typeof v !== 'number' || !Number.isSafeInteger(v))
        throw new OptionError(name, `must be an integer (got ${JSON.stringify(value)})`);
      if (spec.min !== undefined && v < spec.min) throw new OptionError(name, `must be at least ${spec.min} (got ${v})`);
      break;
    case 'boolean':
      if (typeof v !== 'boolean') throw new OptionError(name, `must be true or false (got ${JSON.stringify(value)})`);
      break;
    case 'string':
      if (typeof v !== 'string') throw new OptionError(name, `must be a string (got ${JSON.stringify(value)})`);
      break;
    case 'list':
      if (typeof v === 'string') v = v.split(/\s+/).filter((x) => x !== '');
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
        throw new OptionError(name, 'must be a list of strings or a space-separated string');
      }
      break;
  }
  const problem = spec.check?.(v);
  if (problem !== undefined) throw new OptionError(name, problem);
  return v;
}
