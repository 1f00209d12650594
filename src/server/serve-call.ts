// src/server/serve-call.ts: the two ways serve() may be called, read into one. waitstate's own is
// `serve(app, options?)`; @hono/node-server's is `serve(options, listeningListener?)`, where the
// options carry the app as `fetch` (or are a Hono app: `serve(app)`). Reading both lets code
// written for @hono/node-server run once its import names waitstate.
//
// The rule (docs/usage.md): a call is @hono/node-server's when @hono/node-server could take it,
// that is when its first argument is an object and no options object follows it (nothing, or a
// function: the listening callback). Anything else is waitstate's. Whatever cannot be honoured
// is an OptionError, never silently ignored.

import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServeOptions, TlsOption } from '../config/options.js';
import { OptionError } from '../errors.js';
import type { App, BoundAddress, FetchHandler } from '../app.js';

/** @hono/node-server listens on this port when given none; so does waitstate in its style. */
const NODE_SERVER_DEFAULT_PORT = 3000;

/** @hono/node-server's options as waitstate takes them; waitstate's own options may join them. */
export type NodeServerOptions = ServeOptions & {
  /** The app. Its second argument (Hono's `c.env`) is waitstate's ConnectionInfo, not node's `{ incoming, outgoing }`. */
  fetch: FetchHandler;
  /** waitstate's `host`. */
  hostname?: string;
  /** What waitstate always does: a request body is received whole before the app runs, so none is left unread. */
  autoCleanupIncoming?: true;
  /** node:https's createServer, to serve HTTPS as @hono/node-server does; no other server is taken. */
  createServer?: typeof createHttpsServer;
  /** With node:https's createServer: its TLS options (key, cert, …), taken as waitstate's `tls`. */
  serverOptions?: TlsOption;
};

/** What the listening callback receives: node's AddressInfo of the first address bound, and its URL. */
export interface ListeningInfo extends AddressInfo {
  /** `http://127.0.0.1:3000`, as in BoundAddress. */
  readonly url: string;
}

export type ListeningListener = (info: ListeningInfo) => void;

/** A call to serve(), whichever style it was written in. */
interface ServeCall {
  app: App | string;
  options: ServeOptions;
  onListening: ListeningListener | undefined;
}

/**
 * The keys of @hono/node-server's options, the only ones read from an object that is not a plain
 * one (a Hono app): @hono/node-server reads nothing else from it either.
 */
const NODE_SERVER_KEYS = [
  'fetch',
  'port',
  'hostname',
  'overrideGlobalObjects',
  'autoCleanupIncoming',
  'createServer',
  'serverOptions',
  'websocket',
] as const;

/** @hono/node-server's keys that waitstate cannot honour: why, and what to use instead. */
const REFUSED_NODE_SERVER_KEYS: Readonly<Record<string, string>> = {
  createServer:
    'waitstate is its own HTTP/1.1 server on net sockets, so a node:http or http2 server cannot stand in for it ' +
    "(node:https's createServer can: its serverOptions become waitstate's tls); for HTTP/2 put a proxy in front " +
    '(docs/usage.md, behind a reverse proxy); for a socket bound elsewhere use sockets',
  serverOptions:
    "are node:http's createServer options, which waitstate does not use; its own options cover that ground " +
    '(maxRequestHeaderSize for maxHeaderSize, headerTimeout and bodyMinRate for headersTimeout and requestTimeout, ' +
    "channelTimeout for keepAliveTimeout; docs/options.md); TLS options (key, cert) go with node:https's createServer, or in tls",
  websocket:
    "is a ws server for @hono/node-server's own upgradeWebSocket, which needs node:http's request objects; " +
    "waitstate upgrades with its upgradeWebSocket() (Deno's API), needing no server to pass (docs/usage.md, WebSockets)",
};

/** node:http's own options, which serverOptions for node:https may hold beside TLS's: waitstate's options cover them. */
const HTTP_SERVER_OPTIONS = [
  'IncomingMessage',
  'ServerResponse',
  'requestTimeout',
  'headersTimeout',
  'keepAliveTimeout',
  'connectionsCheckingInterval',
  'highWaterMark',
  'insecureHTTPParser',
  'joinDuplicateHeaders',
  'maxHeaderSize',
  'requireHostHeader',
  'uniqueHeaders',
  'rejectNonStandardBodyWrites',
];

/**
 * `createServer: https.createServer` with its `serverOptions` (@hono/node-server's way to serve
 * HTTPS): the options become waitstate's `tls`. Any other createServer is refused.
 */
function httpsFromNodeServer(options: Record<string, unknown>): void {
  const { createServer, serverOptions } = options;
  delete options['createServer'];
  delete options['serverOptions'];
  if (createServer !== createHttpsServer) throw new OptionError('createServer', REFUSED_NODE_SERVER_KEYS['createServer']!);
  if (serverOptions === null || typeof serverOptions !== 'object') {
    throw new OptionError('serverOptions', 'must be the options of https.createServer: key and cert at least');
  }
  const httpOption = HTTP_SERVER_OPTIONS.find((key) => Object.hasOwn(serverOptions, key));
  if (httpOption !== undefined) throw new OptionError(`serverOptions.${httpOption}`, REFUSED_NODE_SERVER_KEYS['serverOptions']!);
  if (options['tls'] !== undefined) throw new OptionError('serverOptions', 'and tls say the same (the TLS options): give one');
  options['tls'] = serverOptions;
}

const describeValue = (value: unknown): string =>
  typeof value === 'function' ? 'a function' : typeof value === 'string' ? JSON.stringify(value) : String(value);

const isPlainObject = (value: object): boolean => {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

/** Read serve()'s arguments in either style; what does not fit throws an OptionError. */
export function readServeCall(first: unknown, second: unknown, extra: readonly unknown[]): ServeCall {
  if (extra.some((argument) => argument !== undefined)) {
    throw new OptionError(
      'callback',
      'serve() takes two arguments: serve(app, options) resolves once listening (await it), and a listening callback ' +
        "goes with @hono/node-server's style, serve({ fetch, ...options }, callback)",
    );
  }
  if (first !== null && typeof first === 'object' && (second === undefined || typeof second === 'function')) {
    return { ...readNodeServerOptions(first), onListening: second as ListeningListener | undefined };
  }
  if (typeof second === 'function') {
    throw new OptionError(
      'callback',
      `serve(app, callback) takes an object with a fetch method as its app (got ${describeValue(first)}): ` +
        'write serve({ fetch: handler, ...options }, callback), or await serve(app, options)',
    );
  }
  if (typeof second === 'number') {
    throw new OptionError('port', `goes in the options: serve(app, { port: ${second} }), not serve(app, ${second})`);
  }
  if (second !== undefined && (second === null || typeof second !== 'object' || Array.isArray(second))) {
    throw new OptionError(
      'options',
      `the second argument of serve(app, options) must be an object of options (got ${Array.isArray(second) ? 'an array' : describeValue(second)})`,
    );
  }
  return { app: first as App | string, options: (second ?? {}) as ServeOptions, onListening: undefined };
}

/**
 * @hono/node-server's options as an app and waitstate's options. A plain object is all options,
 * so every key must be one (@hono/node-server's or waitstate's); any other object is an app
 * (a Hono app, whose fetch is its handler) read only for @hono/node-server's keys.
 */
function readNodeServerOptions(source: object): { app: App; options: ServeOptions } {
  const record = source as Record<string, unknown>;
  const given: Record<string, unknown> = isPlainObject(source)
    ? { ...record }
    : Object.fromEntries(NODE_SERVER_KEYS.map((key) => [key, record[key]]));
  const { fetch, hostname, autoCleanupIncoming, ...options } = given;
  if (options['createServer'] !== undefined) httpsFromNodeServer(options);
  for (const [key, why] of Object.entries(REFUSED_NODE_SERVER_KEYS)) {
    if (options[key] !== undefined) throw new OptionError(key, why);
  }
  if (typeof fetch !== 'function') {
    const byReference =
      typeof fetch === 'string'
        ? `; an app named by module goes first, as in serve(${JSON.stringify(fetch)}, { threads: 4, port: 3000 })`
        : '';
    throw new OptionError('fetch', `must be the app's fetch function, (request) => Response (got ${describeValue(fetch)})${byReference}`);
  }
  if (autoCleanupIncoming !== undefined && autoCleanupIncoming !== true) {
    throw new OptionError(
      'autoCleanupIncoming',
      'can only be true: waitstate receives every request body whole (in memory, or in a temp file past inbufOverflow) before ' +
        'the app runs, so no body is ever left unread on the connection; remove the key',
    );
  }
  if (hostname !== undefined) {
    if (typeof hostname !== 'string') throw new OptionError('hostname', `must be a string (got ${describeValue(hostname)})`);
    if (options.host !== undefined) throw new OptionError('hostname', "is @hono/node-server's name for host: give one of them");
    options.host = hostname;
  }
  const placed = ['port', 'listen', 'unixSocket', 'sockets'].some((key) => options[key] !== undefined);
  if (!placed) options.port = NODE_SERVER_DEFAULT_PORT;
  // The object itself is the app, so that a fetch method that uses `this` keeps it.
  return { app: source as App, options: options as ServeOptions };
}

/** The callback's view of a bound address (node's `server.address()`, with waitstate's url). */
export function listeningInfo(bound: BoundAddress): ListeningInfo {
  return { address: bound.host, family: bound.family, port: bound.port, url: bound.url };
}
