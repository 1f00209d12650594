// src/config/options.ts: every server option, defined once.
//
// Each entry gives the library name (camelCase), the Waitress name (snake_case, accepted in
// config files), the CLI flag (kebab-case, derived), its type, default, help line and check.
// `resolveOptions()` validates a user's options against this table and throws an OptionError
// naming the option as the user wrote it (a Spelling: camelCase, a flag, a config file's key);
// the CLI parser and `--help` are generated from the same table.

import { isIP, Server } from 'node:net';
import type { InspectionEvent } from 'xstate';
import { OptionError } from '../errors.js';
import { PROXY_HEADERS } from '../http/proxy-headers.js';
import { consoleLogger, LOG_FORMATS, type LogFormat, type Logger } from './console-log.js';
import { didYouMean } from './did-you-mean.js';
import { resolveTls, type TlsField, type TlsNames, type TlsOption } from './tls.js';

export type { Logger } from './console-log.js';
export type { TlsOption } from './tls.js';

/** Where log lines go (access_log, trace): anything with a write(string) method (a stream, process.stdout). */
export interface LogOutput {
  write(line: string): unknown;
}

/** A function receiving each of the machines' inspection events. */
export type InspectionCallback = (event: InspectionEvent) => void;

/** What `inspect` asks for: off, a function to call, or the port of a loopback relay. */
export type InspectOption = false | InspectionCallback | number;

/** How the machines run: tables compiled from their definitions, or real xstate actors. */
export type MachineRuntime = 'compiled' | 'xstate';

type Kind = 'string' | 'integer' | 'boolean' | 'list' | 'sockets' | 'output' | 'inspect' | 'tls';

interface OptionSpec<T> {
  readonly kind: Kind;
  readonly default: T;
  readonly help: string;
  readonly min?: number;
  readonly check?: (value: T) => string | undefined;
  /** Turn an accepted value into the one used (url_prefix `app/` → `/app`). */
  readonly normalize?: (value: T) => T;
  /** What the library takes besides (a net.Server, a function, a stream): in the docs, not in --help. */
  readonly library?: string;
  /** Accepted for Waitress configs but meaningless on Node: why, said in a warning when set. */
  readonly ignored?: string;
  /** Not one of Waitress's options (documented as waitstate's own). */
  readonly own?: true;
  /** Why the default is what it is: what other servers use (docs/options.md). */
  readonly precedent?: string;
  /** Why there is no command-line flag for it (an object, a secret); it is still a config file key. */
  readonly noFlag?: string;
  /** The environment variable waitstate-serve reads it from (below the flags, above a config file). */
  readonly env?: string;
}

const integer = (def: number, min: number, help: string, extra: Partial<OptionSpec<number>> = {}): OptionSpec<number> => ({
  kind: 'integer',
  default: def,
  min,
  help,
  ...extra,
});
const boolean = (def: boolean, help: string, extra: Partial<OptionSpec<boolean>> = {}): OptionSpec<boolean> => ({
  kind: 'boolean',
  default: def,
  help,
  ...extra,
});
const string = (def: string, help: string, extra: Partial<OptionSpec<string>> = {}): OptionSpec<string> => ({
  kind: 'string',
  default: def,
  help,
  ...extra,
});

/** `[::1]` → `::1`; anything else as it is. */
const unbracketed = (address: string) => address.replace(/^\[(.*)\]$/, '$1');

/** Where waitstate-serve reads keyfile_password from: a flag would show it to every user of the machine (ps). */
const KEYFILE_PASSWORD_ENV = 'WAITSTATE_KEYFILE_PASSWORD';

/** The inspector's port when `inspect` is just switched on. */
const DEFAULT_INSPECT_PORT = 5678;

/** Waitress's options, in its order, then waitstate's own (marked `own`). */
export const OPTIONS = {
  // ---- where to listen
  host: string('', 'Interface to listen on (default 0.0.0.0 when `listen` is not given). Not with `listen` or `unix_socket`.'),
  port: integer(8080, 0, 'TCP port to listen on; 0 picks a free port. Not with `listen` or `unix_socket`.'),
  listen: {
    kind: 'list',
    default: [] as readonly string[],
    help:
      'HOST:PORT entries, repeatable or space-separated ("127.0.0.1:8080 [::1]:8080 *:6543"); * is every enabled family, ' +
      'a host name every address it resolves to. Not with `host`, `port` or `unix_socket`.',
    check: (list) => list.map(checkListenEntry).find((m) => m !== undefined),
  } as OptionSpec<readonly string[]>,
  ipv4: boolean(true, 'Bind IPv4 addresses for * and host names in `listen`.'),
  ipv6: boolean(true, 'Bind IPv6 addresses for * and host names in `listen`.'),
  unixSocket: string('', 'Path of a Unix socket to listen on; a stale socket file there is replaced. Not with `host`, `port` or `listen`.'),
  unixSocketPerms: string('600', 'Permissions of the Unix socket file, an octal string.', {
    check: (v) => (/^[0-7]{3,4}$/.test(v) ? undefined : `must be an octal mode such as 600 or 660 (got "${v}")`),
  }),
  sockets: {
    kind: 'sockets',
    default: [] as readonly ListenSocket[],
    help:
      'Sockets bound by someone else, as file descriptors (space-separated); waitstate-serve also takes them from systemd (LISTEN_FDS). ' +
      'Not with `host`, `port`, `listen` or `unix_socket`.',
    library: 'The library also takes listening net.Server objects, which waitstate then owns.',
  } as OptionSpec<readonly ListenSocket[]>,
  backlog: integer(1024, 1, 'listen() backlog; also how many connections may wait beyond `connection_limit`.'),
  // ---- what the app sees
  serverName: string('waitstate.invalid', 'info.serverName given to the app (Waitress: SERVER_NAME).'),
  urlScheme: string('http', 'Scheme of request.url and info.urlScheme.', {
    check: (v) => (/^[a-z][a-z0-9+.-]*$/.test(v) ? undefined : 'must be a URL scheme such as http or https'),
  }),
  urlPrefix: string(
    '',
    'Path the app is mounted at: info.scriptName, and stripped from request.url when the path is the prefix or starts with it and a /.',
    {
      check: (v) => (/^[\x21-\x7e]*$/.test(v) && !/[?#]/.test(v) ? undefined : 'must be a URL path (no spaces, ? or #)'),
      normalize: (v) => {
        const trimmed = v.replace(/^\/+|\/+$/g, '');
        return trimmed === '' ? '' : `/${trimmed}`;
      },
    },
  ),
  ident: string('waitstate', 'Server header value and the error page tag; empty sends no Server header.', {
    check: (v) => (/^[\x20-\x7e]*$/.test(v) ? undefined : 'must be printable ASCII'),
  }),
  // ---- proxies in front (Waitress's proxy_headers)
  trustedProxy: string(
    '',
    'Address of the proxy allowed to set proxy headers (an IP as the peer appears), * for any peer, localhost for Unix sockets.',
    {
      check: (v) =>
        v === '' || v === '*' || v === 'localhost' || isIP(unbracketed(v)) !== 0
          ? undefined
          : `must be an IP address, * or localhost (got "${v}")`,
      // Node reports a peer's IPv6 address in its compressed form; compare like with like.
      normalize: (v) => {
        const bare = unbracketed(v);
        return isIP(bare) === 6 ? new URL(`http://[${bare}]`).hostname.slice(1, -1) : bare;
      },
    },
  ),
  trustedProxyCount: integer(1, 1, 'How many proxies in a row are trusted: the last N hops of each proxy header are believed.'),
  trustedProxyHeaders: {
    kind: 'list',
    default: [] as readonly string[],
    help:
      'Proxy headers believed from `trusted_proxy`: forwarded, or any of x-forwarded-for, x-forwarded-host, x-forwarded-proto, ' +
      'x-forwarded-port, x-forwarded-by (space-separated). Empty with `trusted_proxy` means x-forwarded-proto, with a warning.',
    check: (list) => {
      const names = list.map((h) => h.toLowerCase());
      const unknown = names.find((h) => !(PROXY_HEADERS as readonly string[]).includes(h));
      if (unknown !== undefined) return `"${unknown}" is not one of ${PROXY_HEADERS.join(', ')}`;
      if (names.includes('forwarded') && names.some((h) => h !== 'forwarded')) {
        return 'forwarded cannot be combined with the x-forwarded-* headers (a proxy sends one or the other)';
      }
      return undefined;
    },
    normalize: (list) => [...new Set(list.map((h) => h.toLowerCase()))],
  } as OptionSpec<readonly string[]>,
  logUntrustedProxyHeaders: boolean(false, 'Log a warning naming the proxy headers removed from a request as untrusted.'),
  clearUntrustedProxyHeaders: boolean(
    true,
    'Remove proxy headers the app should not believe (from untrusted peers, or not in `trusted_proxy_headers`) before it sees them.',
  ),
  // ---- workers
  threads: integer(
    0,
    0,
    'Worker threads running the app; 0 runs it inline on the main thread. waitstate-serve defaults to 4, like waitress-serve.',
  ),
  // ---- buffers and limits
  recvBytes: integer(8192, 1, 'Bytes per socket read in Waitress.', {
    ignored: 'Node reads up to 64 KiB per read on its own',
  }),
  sendBytes: integer(1, 1, 'Deprecated in Waitress (1.3).', {
    ignored: 'what a turn produced goes out in one write',
  }),
  outbufOverflow: integer(1048576, 0, 'Bytes of output waiting for a slow client kept in memory; beyond, it waits in a temp file.'),
  outbufHighWatermark: integer(
    16777216,
    1,
    'Bytes of a response waiting for a slow client before the app (or its worker) is made to wait.',
  ),
  inbufOverflow: integer(524288, 0, 'Bytes of a request body kept in memory; beyond, the body goes to a temp file.'),
  connectionLimit: integer(
    10000,
    1,
    'Open connections served at once. At the limit the oldest connection that has not sent a whole request head is shed ' +
      '(408, or closed if it sent nothing); when none can be, new connections wait, unread, until one closes.',
    {
      precedent:
        'a connection costs ~7 KB here, so 10000 bound memory at ~70 MB, and are more than slow clients can fill before `header_timeout` ' +
        "and shedding clear them; Waitress's 100 was sized for select() and a thread per request; node:http, Kestrel and Go set no limit. " +
        'Keep it below the open-file limit (ulimit -n; a start-up warning says when it is not)',
    },
  ),
  cleanupInterval: integer(30, 1, 'Seconds between sweeps for idle connections.'),
  channelTimeout: integer(
    120,
    1,
    'Seconds a connection may go without a byte in or out while no request runs; then it is closed without an answer. ' +
      'Every byte restarts this clock, so a request on its way in is also held to `header_timeout` and `body_min_rate`.',
  ),
  logSocketErrors: boolean(true, 'Log socket errors (a reset by the client is not an error and is never logged).'),
  channelRequestLookahead: integer(0, 0, 'Requests Waitress reads ahead while one runs, so that the app can learn the client left.', {
    ignored:
      'waitstate always reads while a request runs (up to 64 KiB of pipelined input), so request.signal aborts when the client ' +
      'goes (a close or a reset), whatever the value; pipelined requests are parsed in their turn',
  }),
  maxRequestHeaderSize: integer(262144, 1, 'Largest request head in bytes; larger gets 431.'),
  maxRequestBodySize: integer(1073741824, 0, 'Largest request body in bytes; larger gets 413.'),
  exposeTracebacks: boolean(false, 'Put the app error stack in 500 bodies.'),
  asyncoreLoopTimeout: integer(1, 0, "select() timeout of Waitress's asyncore loop.", {
    ignored: 'Node has no asyncore loop; the sweep runs every `cleanup_interval` seconds',
  }),
  asyncoreUsePoll: boolean(false, "poll() instead of select() in Waitress's asyncore loop.", {
    ignored: 'Node uses epoll/kqueue through libuv; there is no descriptor limit to lift',
  }),
  // ---- waitstate's own
  dispatchWindow: integer(
    8,
    1,
    'Tasks one worker thread may hold that have not yet reached their first await (waiting to start, or running synchronously): ' +
      'more means fewer messages under load; fewer, that a cheap task waits less behind a CPU-bound one. The window in force ' +
      'narrows to 1 while tasks take milliseconds of CPU; 1 is Waitress (a thread takes a task only when free).',
    { own: true },
  ),
  threadConcurrency: integer(
    1000,
    1,
    'Requests one worker thread may have in progress at once: a worker is an event loop, so while requests await I/O, timers ' +
      'or a slow client it starts more. Beyond, requests wait in the queue. CPU-bound requests are still placed by `dispatch_window`.',
    { own: true, precedent: 'node:http, Deno and Bun: no limit on one event loop; 1000 bounds the memory of a stalled backend' },
  ),
  headerTimeout: integer(
    30,
    0,
    'Seconds a request head may take from its first byte to its end; then 408 and the connection closes. 0: no limit.',
    { own: true, precedent: 'Kestrel RequestHeadersTimeout: 30 s; node:http headersTimeout and nginx client_header_timeout: 60 s' },
  ),
  bodyMinRate: integer(
    240,
    0,
    'Bytes per second a request body must average, from the end of its head, once `body_grace_period` has passed; ' +
      'slower gets 408 and the connection closes. 0: no minimum.',
    { own: true, precedent: 'Kestrel MinRequestBodyDataRate: 240 B/s after a 5 s grace period' },
  ),
  bodyGracePeriod: integer(5, 0, 'Seconds a request body may arrive at any rate before `body_min_rate` applies.', {
    own: true,
    precedent: 'Kestrel: 5 s',
  }),
  handlerTimeout: integer(
    0,
    0,
    'Seconds the app may take over a request, its response body included: then request.signal aborts, the request gets 503 ' +
      'if nothing of the response was sent, else its connection closes, and its worker slot is free. 0: no limit.',
    {
      own: true,
      precedent:
        'off, like node:http, Deno and Bun: streamed responses (SSE, downloads) legitimately run for as long as the client reads; ' +
        'a client that leaves frees its slot without it',
    },
  ),
  processes: integer(1, 1, 'Processes (node:cluster) sharing the listeners, each its own server: the way to use every core.', {
    own: true,
  }),
  shutdownTimeout: integer(
    30,
    0,
    'Seconds close() (and SIGINT/SIGTERM in waitstate-serve) lets running requests finish; then their connections are closed.',
    { own: true },
  ),
  // ---- HTTPS (gunicorn's names for the files; Waitress serves plain HTTP only)
  certfile: string(
    '',
    'Serve HTTPS with this certificate: a PEM file, the intermediate certificates after it. With `keyfile`. ' +
      'request.url and info.urlScheme are then https unless `url_scheme` says otherwise.',
    { own: true },
  ),
  keyfile: string('', 'The private key of `certfile`, a PEM file; an encrypted one is opened with the passphrase in `keyfile_password`.', {
    own: true,
  }),
  keyfilePassword: string('', 'Passphrase of an encrypted `keyfile`.', {
    own: true,
    noFlag: `a flag would show it to every user of the machine (ps): waitstate-serve reads it from the environment variable ${KEYFILE_PASSWORD_ENV}, or from a config file`,
    env: KEYFILE_PASSWORD_ENV,
  }),
  caCerts: string(
    '',
    'CA certificates, a PEM file: those client certificates must chain to when `tls` asks for them (requestCert); ' +
      'OpenSSL also completes the chain it sends from them.',
    { own: true },
  ),
  tls: {
    kind: 'tls',
    default: undefined,
    help:
      'Options of tls.createServer: key, cert, ca, passphrase (PEM strings or Buffers, or lists), pfx, ciphers, minVersion, ' +
      'requestCert, ticketKeys, SNICallback, …; serve HTTPS. key, cert, ca and passphrase may come from the file options instead, ' +
      'never both. waitstate advertises http/1.1 through ALPN itself (HTTP/2 is not served), defaults minVersion to TLSv1.2 and ' +
      'handshakeTimeout to `header_timeout` (`channel_timeout` when that is 0).',
    own: true,
    noFlag: 'an object: in the library, or in a JSON config file',
    precedent:
      'the handshake is where a request begins, so it gets the time a request head gets (Go bounds it by ReadHeaderTimeout; ' +
      "nginx gives ssl_handshake_timeout 60 s; node:https's 120 s is longer than a client needs)",
  } as OptionSpec<TlsOption | undefined>,
  accessLog: {
    kind: 'output',
    default: '',
    help: 'Access log, one Apache Combined Log Format line per request the app answered: a file appended to, or - for stdout. Empty: none.',
    library: 'The library also takes any object with write(line) (a stream).',
    own: true,
  } as OptionSpec<string | LogOutput>,
  logLevel: {
    kind: 'string',
    default: 'info',
    help: 'Least severe message passed to the logger: error, warn or info; silent passes none.',
    check: (v) => ((LOG_LEVELS as readonly string[]).includes(v) ? undefined : `must be one of ${LOG_LEVELS.join(', ')} (got "${v}")`),
    own: true,
  } as OptionSpec<LogLevel>,
  logFormat: {
    kind: 'string',
    default: 'text',
    help:
      'How the built-in logger (used when no logger is given, as on the CLI) writes a line: text ' +
      '(2026-11-28T08:03:19.123Z ERROR message, a stack indented beneath) or json (one pino line: level, time, pid, ' +
      'hostname, err, msg). Every level goes to stderr.',
    check: (v) => ((LOG_FORMATS as readonly string[]).includes(v) ? undefined : `must be one of ${LOG_FORMATS.join(', ')} (got "${v}")`),
    own: true,
    precedent:
      "text: Waitress's lines are Python logging's default, a level and a message (INFO:waitress:Serving on …) with no time, " +
      "and a file or a pipe adds none, so the time comes first, in ISO 8601 UTC. json is pino's line, for pino-pretty and log " +
      'shippers. Every level goes to stderr, where Waitress (Python logging), gunicorn and uvicorn write their server logs: stdout ' +
      'stays for access_log and trace at -, so that a reader of one stream meets one kind of line (pino writes all to stdout; ' +
      'node:http logs nothing)',
  } as OptionSpec<LogFormat>,
  trace: {
    kind: 'output',
    default: '',
    help:
      'Write one JSON line per event a machine processed (time, connection, actor, from-state, event, to-state) to a file, ' +
      'or - for stdout; read it with waitstate-trace. Runs the machines as xstate actors.',
    library: 'The library also takes a stream.',
    own: true,
  } as OptionSpec<string | LogOutput>,
  inspect: {
    kind: 'inspect',
    default: false,
    help:
      `Watch the machines live in Stately's inspector on this port (${DEFAULT_INSPECT_PORT} when just switched on: --inspect, or true); ` +
      "open http://127.0.0.1:PORT (the page embeds Stately's hosted inspector: the browser needs internet access). Runs the " +
      'machines as xstate actors. Needs the optional package @statelyai/inspect (npm i @statelyai/inspect).',
    library: 'The library also takes a function receiving each inspection event.',
    own: true,
  } as OptionSpec<InspectOption>,
  overrideGlobalObjects: boolean(true, 'Replace globalThis.Response with a lightweight one while serving (like @hono/node-server).', {
    own: true,
  }),
  machineRuntime: {
    kind: 'string',
    default: 'compiled',
    help: 'How the machines run: compiled (tables built from the definitions, fast) or xstate (real actors, for inspection).',
    check: (v) => (v === 'compiled' || v === 'xstate' ? undefined : 'must be "compiled" or "xstate"'),
    own: true,
  } as OptionSpec<MachineRuntime>,
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Whether `name` is an option's library name (its own key: `toString` and `constructor` are not). */
export const isOptionName = (name: string): name is OptionName => Object.hasOwn(OPTIONS, name);

type ValueOf<S> = S extends OptionSpec<infer T> ? T : never;
export type Settings = { -readonly [K in OptionName]: ValueOf<(typeof OPTIONS)[K]> };

/** What `serve()` accepts: any subset of the options (a list also as a space-separated string, as on the CLI), plus a logger. */
export type ServeOptions = { [K in OptionName]?: Settings[K] extends readonly unknown[] ? Settings[K] | string : Settings[K] } & {
  logger?: Logger;
};

const LOG_LEVELS = ['silent', 'error', 'warn', 'info'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

/** The logger's methods below `level` replaced by no-ops; the logger itself when nothing is cut. */
function leveled(logger: Logger, level: LogLevel): Logger {
  if (level === 'info') return logger;
  const quiet = () => {};
  const rank = LOG_LEVELS.indexOf(level);
  const keep = (method: 'error' | 'warn' | 'info') => (LOG_LEVELS.indexOf(method) <= rank ? logger[method].bind(logger) : quiet);
  return { error: keep('error'), warn: keep('warn'), info: keep('info') };
}

/** `--max-request-body-size` for `maxRequestBodySize`. */
export function flagOf(name: string): string {
  return '--' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** Whether waitstate-serve has a flag for the option (`tls`, an object, and `keyfile_password`, a secret, have none). */
export const hasFlag = (name: OptionName): boolean => !('noFlag' in OPTIONS[name]);

function checkListenEntry(entry: string): string | undefined {
  return parseListenEntry(entry, 8080) === undefined ? `"${entry}" is not HOST:PORT ([::1]:8080 for IPv6)` : undefined;
}

/** A pre-bound listening socket: a file descriptor, `{ fd }`, or a listening net.Server. */
export type ListenSocket = number | { readonly fd: number } | Server;

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:8080`, `[::1]:8080`, `*:8080` (every enabled family), `name:8080`, or a bare host (default port). */
export function parseListenEntry(entry: string, defaultPort: number): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]*))(?::(\d{1,5}))?$/.exec(entry);
  if (m === null) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port > 65535 || host === '') return undefined;
  return { host, port };
}

/**
 * How the user wrote the options, so that every message names an option as they did: camelCase
 * in the library, flags on the command line, a config file's keys as written there. Plain data:
 * it crosses to cluster processes with the options.
 */
export interface Spelling {
  /** How options not in `written` are named: `library`, camelCase; `cli`, as flags (`--max-request-body-size`). */
  readonly style: 'library' | 'cli';
  /** Options read from a config file (each one's key as written there, and the file) or the environment (its variable). */
  readonly written?: { readonly [K in OptionName]?: { readonly key: string; readonly file?: string } };
}

export const LIBRARY_SPELLING: Spelling = { style: 'library' };

/**
 * `name` as its user wrote it or, not written, as they would: a flag on the command line, the
 * file's style in a message about a key of a config file (`near`), camelCase in the library.
 */
export function spell(spelling: Spelling, name: OptionName, near?: OptionName): string {
  const written = spelling.written?.[name];
  if (written !== undefined) return written.key;
  const nearWritten = near === undefined ? undefined : spelling.written?.[near];
  if (nearWritten?.file !== undefined) return /[A-Z]/.test(nearWritten.key) ? name : snakeOf(name);
  if (spelling.style === 'library') return name;
  if (hasFlag(name)) return flagOf(name);
  // No flag: the command line takes it from its environment variable, else from a config file.
  const env: string | undefined = (OPTIONS[name] as OptionSpec<unknown>).env;
  return env === undefined ? snakeOf(name) : `the environment variable ${env}`;
}

/** `name` in a sentence: `recv_bytes in deploy.ini`, `--recv-bytes`, `recvBytes`. */
export function mention(spelling: Spelling, name: OptionName): string {
  const file = spelling.written?.[name]?.file;
  return file === undefined ? spell(spelling, name) : `${spell(spelling, name)} in ${file}`;
}

/** Text from the options table with its `option_name` references spelled as the user spells options. */
export function spellIn(spelling: Spelling, text: string, near?: OptionName): string {
  return text.replace(/`([a-z0-9_]+)`/g, (_, snake: string) => {
    const name = camelOf(snake);
    return isOptionName(name) ? spell(spelling, name, near) : snake;
  });
}

/** What is wrong; as a function, it names the options it mentions by `other`, spelled as the user spells options. */
type Detail = string | ((other: (name: OptionName) => string) => string);

/** An OptionError about `name`, named as written, with the file it was written in. */
export function optionError(spelling: Spelling, name: OptionName, detail: Detail): OptionError {
  const text = typeof detail === 'string' ? detail : detail((other) => spell(spelling, other, name));
  return new OptionError(spell(spelling, name), text, spelling.written?.[name]?.file);
}

/** Where to listen: Waitress refuses to combine these (listen with host or port, unix_socket or sockets with any other). */
export const ADDRESS_OPTIONS = ['listen', 'host', 'port', 'unixSocket', 'sockets'] as const satisfies readonly OptionName[];

/**
 * The settings in force, the logger, warnings for options that have no effect here, how the user
 * spelled them, and, when HTTPS is served, what tls.createServer is given (files read, checked).
 */
export type ResolvedOptions = Settings & { logger: Logger; warnings: string[]; spelling: Spelling; tlsServer: TlsOption | undefined };

/**
 * Validate user options against the table; unknown names, bad values and conflicts throw an
 * OptionError naming the option as `spelling` says the user wrote it (camelCase by default).
 */
export function resolveOptions(user: Record<string, unknown>, spelling: Spelling = LIBRARY_SPELLING): ResolvedOptions {
  const settings: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, OptionSpec<unknown>][]) {
    settings[name] = spec.default;
  }
  let logger: Logger | undefined;
  const warnings: string[] = [];
  for (const [key, value] of Object.entries(user)) {
    if (value === undefined) continue;
    if (key === 'logger') {
      if (!isLogger(value)) throw new OptionError('logger', 'must have error, warn and info methods (console works)');
      logger = value;
      continue;
    }
    if (!isOptionName(key))
      throw new OptionError(key, `is not an option of waitstate${didYouMean(key, [...Object.keys(OPTIONS), 'logger'])}`);
    const name = key;
    const spec = OPTIONS[name] as OptionSpec<unknown>;
    const checked = checkValue(spec, value, spelling.style === 'library', (detail) => optionError(spelling, name, detail));
    settings[name] = spec.normalize ? spec.normalize(checked) : checked;
    if (spec.ignored !== undefined) {
      warnings.push(
        `waitstate: ${mention(spelling, name)} is accepted for Waitress configs only: ${spellIn(spelling, spec.ignored, name)}`,
      );
    }
  }
  const s = settings as Settings;
  checkCombinations(s, (name) => user[name] !== undefined, spelling);
  const tlsServer = resolveTls(
    {
      tls: s.tls,
      files: { key: s.keyfile, cert: s.certfile, ca: s.caCerts },
      passphrase: s.keyfilePassword,
      // A handshake is never left unbounded: without header_timeout, the idle clock bounds it.
      handshakeTimeoutMs: (s.headerTimeout > 0 ? s.headerTimeout : s.channelTimeout) * 1000,
    },
    tlsNames(spelling),
    warnings,
  );
  // An explicit url_scheme wins, as behind a proxy: it says what the client used.
  if (tlsServer !== undefined && user['urlScheme'] === undefined) s.urlScheme = 'https';
  if (s.inspect !== false || s.trace !== '') s.machineRuntime = 'xstate';
  if (s.trustedProxy !== '' && s.trustedProxyHeaders.length === 0) {
    s.trustedProxyHeaders = ['x-forwarded-proto'];
    warnings.push(
      `waitstate: ${mention(spelling, 'trustedProxy')} is set without ${spell(spelling, 'trustedProxyHeaders', 'trustedProxy')}: ` +
        'trusting x-forwarded-proto only, as Waitress does; name the headers your proxy sets to silence this',
    );
  }
  // A logger of the user's is used as it is: it stamps its lines its own way.
  return { ...s, logger: leveled(logger ?? consoleLogger(s.logFormat), s.logLevel), warnings, spelling, tlsServer };
}

/** The option that gives each piece of TLS material as a file (or, for the passphrase, as text). */
const TLS_FILE_OPTIONS = {
  key: 'keyfile',
  cert: 'certfile',
  ca: 'caCerts',
  passphrase: 'keyfilePassword',
} as const satisfies Record<TlsField, OptionName>;

/** TLS material named as the user gave it: `--keyfile`, `keyfile in deploy.json`, `tls.key`. */
function tlsNames(spelling: Spelling): TlsNames {
  const member = (key: string) => (key === '' ? spell(spelling, 'tls') : `${spell(spelling, 'tls')}.${key}`);
  return {
    name: (source) => ('file' in source ? spell(spelling, TLS_FILE_OPTIONS[source.file]) : member(source.key)),
    refuse: (source, detail) =>
      'file' in source
        ? optionError(spelling, TLS_FILE_OPTIONS[source.file], detail)
        : new OptionError(member(source.key), detail, spelling.written?.tls?.file),
  };
}

/** The combinations Waitress refuses (Adjustments.__init__), and waitstate's own. */
function checkCombinations(s: Settings, given: (name: OptionName) => boolean, spelling: Spelling): void {
  const refuse = (name: OptionName, detail: Detail) => optionError(spelling, name, detail);
  const exclusive = (name: OptionName, others: readonly OptionName[], present = given(name)) => {
    const alongside = others.filter(given);
    if (present && alongside.length > 0) throw refuse(name, (o) => `cannot be combined with ${alongside.map(o).join(' or ')}`);
  };
  exclusive('listen', ['host', 'port']);
  exclusive('unixSocket', ['host', 'port', 'listen']);
  exclusive('sockets', ['host', 'port', 'listen', 'unixSocket'], s.sockets.length > 0);
  if (!s.ipv4 && !s.ipv6) throw refuse('ipv4', (o) => `and ${o('ipv6')} cannot both be off`);
  const watching = s.inspect !== false ? 'inspect' : s.trace !== '' ? 'trace' : undefined;
  if (watching !== undefined) {
    // Only real xstate actors report inspection events.
    if (s.machineRuntime === 'compiled' && given('machineRuntime')) throw refuse(watching, (o) => `needs ${o('machineRuntime')} "xstate"`);
    if (s.processes > 1) throw refuse(watching, (o) => `cannot be combined with ${o('processes')} (watch one process)`);
  }
  if (s.trustedProxy === '') {
    for (const name of ['trustedProxyCount', 'trustedProxyHeaders'] as const) {
      if (given(name)) throw refuse(name, (o) => `has no meaning without ${o('trustedProxy')}`);
    }
  }
}

/** `max_request_body_size` (Waitress, config files) → `maxRequestBodySize`. */
export const camelOf = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
/** `maxRequestBodySize` → `max_request_body_size`. */
export const snakeOf = (camel: string): string => camel.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

function isLogger(value: unknown): value is Logger {
  return (
    typeof value === 'object' &&
    value !== null &&
    ['error', 'warn', 'info'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
  );
}

const TRUE_WORDS = /^(1|true|yes|on)$/i;
const FALSE_WORDS = /^(0|false|no|off)$/i;

/**
 * An option's value read from text: the one converter for a flag, a config file's value (all of
 * an .ini's are text) and a string given to the library, so "yes", "8080" and "a b" mean the
 * same wherever they are written (Waitress's asbool and aslist). Text that does not convert is
 * returned as it is, for checkValue to refuse.
 */
function fromText(kind: Kind, text: string): unknown {
  const trimmed = text.trim();
  switch (kind) {
    case 'boolean':
      return TRUE_WORDS.test(trimmed) ? true : FALSE_WORDS.test(trimmed) ? false : text;
    case 'integer':
      return /^-?\d+$/.test(trimmed) ? Number(trimmed) : text;
    case 'list':
    case 'sockets':
      return trimmed.split(/\s+/).filter((x) => x !== '');
    case 'inspect':
      // A number is a port, so 1 and 0 are not on and off here.
      return /^\d+$/.test(trimmed) ? Number(trimmed) : TRUE_WORDS.test(trimmed) ? true : FALSE_WORDS.test(trimmed) ? false : text;
    default:
      return text;
  }
}

/** The value checked against its spec; `library` says whether to mention the forms only the library takes. */
function checkValue(spec: OptionSpec<unknown>, value: unknown, library: boolean, refuse: (detail: string) => OptionError): unknown {
  let v = typeof value === 'string' ? fromText(spec.kind, value) : value;
  switch (spec.kind) {
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw refuse(`must be an integer (got ${JSON.stringify(value)})`);
      if (spec.min !== undefined && v < spec.min) throw refuse(`must be at least ${spec.min} (got ${v})`);
      break;
    case 'boolean':
      if (typeof v !== 'boolean') throw refuse(`must be true or false, yes or no, on or off, 1 or 0 (got ${JSON.stringify(value)})`);
      break;
    case 'string':
      if (typeof v !== 'string') throw refuse(`must be a string (got ${JSON.stringify(value)})`);
      break;
    case 'sockets':
      v = checkSockets(v, library, refuse);
      break;
    case 'inspect': {
      const port = v === true ? DEFAULT_INSPECT_PORT : v;
      if (!(
        port === false ||
        (library && typeof port === 'function') ||
        (typeof port === 'number' && Number.isSafeInteger(port) && port >= 0 && port <= 65535)
      )) {
        throw refuse(`must be a port, ${library ? 'true, false or a function' : 'true or false'} (got ${JSON.stringify(value)})`);
      }
      v = port;
      break;
    }
    case 'output':
      if (typeof v !== 'string' && !(library && v !== null && typeof v === 'object' && typeof (v as LogOutput).write === 'function')) {
        throw refuse(`must be a file path or - for stdout${library ? ', or an object with a write method' : ''}`);
      }
      break;
    case 'list':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
        throw refuse('must be a list of strings or a space-separated string');
      break;
    case 'tls':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        throw refuse(`must be an object of tls.createServer options${library ? '' : ' (a JSON config file can hold one)'}`);
      }
      break;
  }
  const problem = spec.check?.(v);
  if (problem !== undefined) throw refuse(problem);
  return v;
}

function checkSockets(list: unknown, library: boolean, refuse: (detail: string) => OptionError): ListenSocket[] {
  const what = library ? 'file descriptors or listening net.Server objects' : 'file descriptors';
  if (!Array.isArray(list)) throw refuse(`must be a list of ${what}`);
  return list.map((entry: unknown) => {
    const fd = typeof entry === 'string' && /^\d+$/.test(entry) ? Number(entry) : entry;
    if (typeof fd === 'number' && Number.isSafeInteger(fd) && fd >= 0) return fd;
    if (library && fd instanceof Server) {
      if (!fd.listening) throw refuse('a net.Server must be listening already (waitstate takes it over)');
      return fd;
    }
    const inner = fd !== null && typeof fd === 'object' ? (fd as { fd?: unknown }).fd : undefined;
    if (typeof inner === 'number' && Number.isSafeInteger(inner) && inner >= 0) return { fd: inner };
    throw refuse(`${JSON.stringify(entry)} is not ${library ? 'a file descriptor or a listening net.Server' : 'a file descriptor'}`);
  });
}
