// src/server.ts: listeners, the set of live channels, the idle sweep, and close().
//
// Each accepted socket becomes a Channel whose machine runs independently (a root, never a
// child: xstate copies a parent's children on every spawn, so thousands of children cost
// quadratic time); the server keeps them
// in a plain Set. close() stops the listeners, tells every channel the server is closing (idle
// ones close at once, busy ones after their response) and resolves when the last one is gone.

import cluster from 'node:cluster';
import { lookup } from 'node:dns/promises';
import { chmodSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { connect, createServer, isIP, Server, type Socket } from 'node:net';
import { Channel, channelDeadlines, proxyPolicy, type ChannelConfig } from './channel.js';
import { openLogOutput, type OpenedLog } from './access-log.js';
import type { Inspection } from './inspect.js';
import type { Inspect } from './runtime.js';
import { combineObservers, traceObserver } from './trace.js';
import { loadAppRef, resolveAppRef } from './app-ref.js';
import { serveCluster } from './cluster.js';
import { OptionError, parseListenEntry, resolveOptions, type ListenAddress, type ListenSocket, type ServeOptions } from './options.js';
import { installLiteResponse } from './response.js';
import { listeningInfo, readServeCall, type ListeningListener, type NodeServerOptions } from './serve-call.js';
import type { FetchHandler, RequestInfo } from './task.js';
import { startSupervisor } from './supervisor.js';
import { WorkerPool } from './worker-pool.js';

/** Descriptors a process needs besides its connections: listeners, worker threads' pipes, temp files, logs. */
const OPEN_FILES_RESERVE = 64;

/** The soft limit on open files (Linux; Node raises it to the hard limit at start-up), or undefined where unknown. */
function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return line === null ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}

/** After a scan at connection_limit found no connection to shed, the next scan waits this long. */
const SHED_RESCAN_MS = 100;

/** With worker threads the main thread never calls the app itself. */
const unreachableHandler: FetchHandler = () => {
  throw new Error('waitstate: the app runs in worker threads');
};

/** A Fetch handler, or an object with one as its `fetch` method (a Hono app, for instance). */
export type App = FetchHandler | { fetch(request: Request, info: RequestInfo): Response | Promise<Response> };

export interface BoundAddress {
  /** The address, or the path of a Unix socket. */
  readonly host: string;
  /** 0 for a Unix socket. */
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6' | 'unix';
  /** `http://127.0.0.1:8080`, IPv6 in brackets; `http://unix:/path` for a Unix socket (as Waitress prints it). */
  readonly url: string;
}

export interface ServerHandle {
  /** What was really bound (port 0 resolved). */
  readonly addresses: readonly BoundAddress[];
  /** Open connections right now. */
  readonly connections: number;
  /** With `inspect` set to a port: the page to open to watch the machines. */
  readonly inspector?: string | undefined;
  /** Stop accepting, let running requests finish, close idle connections; resolves when all are closed. */
  close(): Promise<void>;
}

/**
 * What serve() returns: the promise of a handle, resolved once listening, that can also be closed
 * before it settles, as code written for @hono/node-server closes the server serve() returned.
 */
export interface Serving extends Promise<ServerHandle> {
  /**
   * Close once listening, gracefully (ServerHandle.close). A failed start-up rejects the promise
   * returned, or, given a callback, is passed to it (then the promise resolves), as node's
   * server.close(callback) passes its error.
   */
  close(callback?: (error?: Error) => void): Promise<void>;
}

function toHandler(app: App): FetchHandler {
  if (typeof app === 'function') return app;
  if (app !== null && typeof app === 'object' && typeof app.fetch === 'function') {
    return (request, info) => app.fetch(request, info);
  }
  throw new TypeError('app must be a function (request, info) => Response, or an object with such a fetch method');
}

/** Where to listen, resolved: TCP addresses (one family each), a Unix socket path, or sockets bound by someone else. */
type Endpoint =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string; mode: number }
  | { kind: 'fd'; fd: number }
  | { kind: 'server'; server: Server };

interface ListenSettings {
  listen: readonly string[];
  host: string;
  port: number;
  ipv4: boolean;
  ipv6: boolean;
  unixSocket: string;
  unixSocketPerms: string;
  sockets: readonly ListenSocket[];
}

/**
 * The endpoints to bind, as Waitress resolves them: `*` is 0.0.0.0 and :: (each family that is
 * on), a host name every address it resolves to in the enabled families, duplicates dropped.
 */
async function resolveEndpoints(settings: ListenSettings): Promise<Endpoint[]> {
  if (settings.sockets.length > 0) {
    return settings.sockets.map((socket) =>
      socket instanceof Server ? { kind: 'server', server: socket } : { kind: 'fd', fd: typeof socket === 'number' ? socket : socket.fd },
    );
  }
  if (settings.unixSocket !== '') return [{ kind: 'unix', path: settings.unixSocket, mode: parseInt(settings.unixSocketPerms, 8) }];
  const entries: ListenAddress[] =
    settings.listen.length === 0
      ? [{ host: settings.host === '' ? '0.0.0.0' : settings.host, port: settings.port }]
      : settings.listen.map((entry) => parseListenEntry(entry, settings.port)!);
  const enabled = (family: number) => (family === 4 ? settings.ipv4 : settings.ipv6);
  const endpoints = new Map<string, Endpoint>();
  for (const { host, port } of entries) {
    let hosts: string[];
    if (host === '*') {
      hosts = [...(settings.ipv4 ? ['0.0.0.0'] : []), ...(settings.ipv6 ? ['::'] : [])];
    } else if (isIP(host) !== 0) {
      const family = isIP(host);
      if (!enabled(family)) throw new OptionError('listen', `${host} is an IPv${family} address, but ipv${family} is off`);
      hosts = [host];
    } else {
      const found = await lookup(host, { all: true }).catch((error: Error) => {
        throw new OptionError('listen', `cannot resolve ${host}: ${error.message}`);
      });
      hosts = found.filter((a) => enabled(a.family)).map((a) => a.address);
      if (hosts.length === 0) throw new OptionError('listen', `${host} has no address in an enabled family (ipv4/ipv6)`);
    }
    for (const h of hosts) endpoints.set(`${h} ${port}`, { kind: 'tcp', host: h, port });
  }
  return [...endpoints.values()];
}

/**
 * A Unix socket path may hold the file of a server that died: removed if nothing answers there
 * (Waitress removes any socket file). A live socket, or a file that is not a socket, is an error.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new OptionError('unixSocket', `${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new OptionError('unixSocket', `another server is listening on ${path}`);
  unlinkSync(path);
}

/** The connection options every listener of ours has (see createListener). */
const LISTENER_OPTIONS = { allowHalfOpen: true, noDelay: true, pauseOnConnect: true } as const;

/**
 * A listener for an endpoint, bound. A net.Server passed in `sockets` is already listening: it is
 * taken over as it is. net.Server reads these three settings at each accepted connection, so
 * setting them on a server made elsewhere works as passing them to createServer does.
 */
async function createListener(
  endpoint: Endpoint,
  backlog: number,
  onConnection: (socket: Socket) => void,
): Promise<[Server, BoundAddress]> {
  if (endpoint.kind === 'server') {
    const server = endpoint.server;
    if (server.listenerCount('connection') > 0) {
      throw new OptionError('sockets', 'a net.Server given in sockets must have no connection listener: waitstate takes it over');
    }
    Object.assign(server, LISTENER_OPTIONS);
    server.on('connection', onConnection);
    return [server, boundAddress(server, 'a net.Server from sockets')];
  }
  const server = createServer(LISTENER_OPTIONS, onConnection);
  const where =
    endpoint.kind === 'unix' ? endpoint.path : endpoint.kind === 'fd' ? `fd ${endpoint.fd}` : `${endpoint.host}:${endpoint.port}`;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.close();
      // A descriptor that is not a listening stream socket is the option's fault, not the network's.
      if (endpoint.kind === 'fd') reject(new OptionError('sockets', `fd ${endpoint.fd} cannot be listened on: ${error.message}`));
      else reject(new Error(`listen ${where}: ${error.message}`, { cause: error }));
    };
    server.once('error', onError);
    const options =
      endpoint.kind === 'unix'
        ? { path: endpoint.path, backlog }
        : endpoint.kind === 'fd'
          ? { fd: endpoint.fd, backlog }
          : // Each family on its own socket, as Waitress binds them (IPV6_V6ONLY).
            { host: endpoint.host, port: endpoint.port, backlog, ipv6Only: endpoint.host.includes(':') };
    try {
      server.listen(options, () => {
        server.off('error', onError);
        resolve();
      });
    } catch (error) {
      // listen() throws at once for a descriptor of the wrong kind (a UDP socket, a file).
      onError(error as Error);
    }
  });
  if (endpoint.kind === 'unix') chmodSync(endpoint.path, endpoint.mode);
  return [server, boundAddress(server, where)];
}

function boundAddress(server: Server, where: string): BoundAddress {
  const bound = server.address();
  if (bound === null) throw new Error(`listen ${where}: not bound`);
  if (typeof bound === 'string') return { host: bound, port: 0, family: 'unix', url: `http://unix:${bound}` };
  const family = bound.family === 'IPv6' ? 'IPv6' : 'IPv4';
  const host = family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return { host: bound.address, port: bound.port, family, url: `http://${host}:${bound.port}` };
}

/**
 * Serve a Fetch app over HTTP/1.1, called as @hono/node-server's serve() is: `options.fetch` is
 * the app (or `options` is a Hono app), the port is 3000 unless another is given (or listen,
 * unixSocket, sockets), and `listeningListener` receives the first address bound once listening.
 * waitstate's own options may join the object; hostname is its host.
 */
export function serve(options: NodeServerOptions | Exclude<App, FetchHandler>, listeningListener?: ListeningListener): Serving;
/**
 * Serve a Fetch app over HTTP/1.1; resolves once every listener is bound (and every worker has
 * loaded the app). `app` is a handler, an object with a `fetch` method, or a reference
 * `"MODULE:OBJECT"` (a module path relative to the current directory); worker threads
 * (`threads` > 0) need a reference, since a function cannot be sent to another thread.
 */
export function serve(app: App | string, options?: ServeOptions): Serving;
export function serve(first: unknown, second?: unknown, ...extra: unknown[]): Serving {
  const started = (async () => {
    const call = readServeCall(first, second, extra);
    const handle = await start(call.app, call.options);
    if (call.onListening !== undefined) {
      // Out of the promise chain: a throw in the callback is an uncaught exception, as from a
      // listening listener of node:net, not a failed start-up with a server left running.
      process.nextTick(call.onListening, listeningInfo(handle.addresses[0]!));
    }
    return handle;
  })();
  return Object.assign(started, {
    close(callback?: (error?: Error) => void): Promise<void> {
      const closed = started.then((handle) => handle.close());
      if (callback === undefined) return closed;
      return closed.then(
        () => callback(),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
}

async function start(app: App | string, options: ServeOptions): Promise<ServerHandle> {
  const settings = resolveOptions(options as Record<string, unknown>);
  const { logger } = settings;
  for (const warning of settings.warnings) logger.warn(warning);
  const openFiles = openFileLimit();
  if (openFiles !== undefined && settings.connectionLimit + OPEN_FILES_RESERVE > openFiles) {
    logger.warn(
      `waitstate: connection_limit (${settings.connectionLimit}) is near or above this process's open-file limit (${openFiles}, ulimit -n): ` +
        'past it the kernel refuses connections before waitstate can shed one; raise the limit or lower connection_limit',
    );
  }
  if (settings.processes > 1) {
    if (settings.unixSocket !== '') await clearStaleSocket(settings.unixSocket);
    if (typeof settings.accessLog !== 'string') {
      throw new OptionError(
        'accessLog',
        'with processes, the access log must be a file path or - (a stream cannot be shared with other processes)',
      );
    }
    if (settings.sockets.some((socket) => socket instanceof Server)) {
      throw new OptionError(
        'sockets',
        'with processes, sockets must be file descriptors (a net.Server cannot be shared with other processes)',
      );
    }
    return serveCluster(app, options, settings.processes, logger);
  }
  if (settings.threads > 0 && typeof app !== 'string') {
    throw new OptionError(
      'threads',
      'worker threads need the app as a module reference such as "./app.mjs:app" (a function cannot be sent to a thread); use threads: 0 to run a function inline',
    );
  }
  // Opened first: a path that cannot be written fails start-up before any worker starts. What is
  // opened is closed again if start-up fails later.
  const opened: { close(): Promise<void> }[] = [];
  const closeOpened = () => Promise.all(opened.splice(0).map((resource) => resource.close()));
  const keep = <T extends { close(): Promise<void> } | undefined>(resource: T): T => {
    if (resource !== undefined) opened.push(resource);
    return resource;
  };
  let handler: FetchHandler = unreachableHandler;
  let pool: WorkerPool | undefined;
  let accessLog: OpenedLog | undefined;
  let trace: OpenedLog | undefined;
  let inspection: Inspection | undefined;
  let observer: Inspect | undefined;
  try {
    accessLog = keep(openLogOutput('accessLog', settings.accessLog, (error) => logger.error('waitstate: access log:', error)));
    trace = keep(openLogOutput('trace', settings.trace, (error) => logger.error('waitstate: trace:', error)));
    // Loaded only when asked for: @statelyai/inspect and ws cost start-up time and memory.
    inspection = settings.inspect === false ? undefined : keep(await (await import('./inspect.js')).startInspection(settings.inspect));
    observer = combineObservers(inspection?.observer, trace === undefined ? undefined : traceObserver(trace.output));
    if (settings.threads > 0) {
      pool = new WorkerPool(
        resolveAppRef(app as string, process.cwd()),
        { threads: settings.threads, window: settings.dispatchWindow, concurrency: settings.threadConcurrency },
        logger,
        settings.machineRuntime,
        settings.overrideGlobalObjects,
        observer,
      );
      keep(pool);
      await pool.start();
    } else {
      handler = toHandler(typeof app === 'string' ? await loadAppRef(app, process.cwd()) : app);
    }
  } catch (error) {
    await closeOpened();
    throw error;
  }
  const channels = new Set<Channel>();
  let closing = false;
  let resolveClosed: (() => void) | undefined;

  const config: ChannelConfig = {
    app: handler,
    pool,
    settings,
    logger,
    limits: { maxHeaderBytes: settings.maxRequestHeaderSize, maxBodyBytes: settings.maxRequestBodySize },
    ident: settings.ident === '' ? undefined : settings.ident,
    proxy: proxyPolicy(settings),
    deadlines: channelDeadlines(settings),
    handlerTimeoutMs: settings.handlerTimeout * 1000,
    droppedFieldsLogged: new Set(),
    accessLog: accessLog?.output,
    inspect: observer,
    onClosed(channel) {
      channels.delete(channel);
      shedding.delete(channel);
      admitWaiting();
      if (closing && channels.size === 0) resolveClosed?.();
    },
  };

  // connection_limit (Ranch's conns_sup, Waitress's readable()). At the limit, the oldest
  // connection that has not sent a whole head is shed to make room (a slow or idle client must
  // not keep a new one out); its channel decides how (408, or a silent close when it sent
  // nothing) and stops counting at once, though its close may take a moment. When none can be
  // shed, a new connection is not taken as a channel: it waits, unread, until one closes, like a
  // connection in the kernel's backlog. At most `backlog` wait; more are closed.
  const waiting: Socket[] = [];
  /** Channels shed at the limit and still closing: they no longer count against it. */
  const shedding = new Set<Channel>();
  const counted = () => channels.size - shedding.size;
  /** A scan that found nothing to shed is not repeated for every connection of a burst. */
  let nothingToShedUntil = 0;
  const shedOldest = (): boolean => {
    const now = Date.now();
    if (now < nothingToShedUntil) return false;
    // A Set iterates in insertion order: the first match is the oldest connection.
    for (const channel of channels) {
      if (shedding.has(channel) || !channel.awaitingHead) continue;
      shedding.add(channel);
      channel.shed();
      return true;
    }
    nothingToShedUntil = now + SHED_RESCAN_MS;
    return false;
  };
  const admit = (socket: Socket) => {
    channels.add(new Channel(socket, config));
    socket.resume(); // sockets arrive paused (pauseOnConnect) so nothing is read before this
  };
  /** Room came (a channel closed), or may have (busy channels went idle): let waiting connections in. */
  const admitWaiting = () => {
    while (!closing && waiting.length > 0) {
      if (waiting[0]!.destroyed) {
        waiting.shift();
        continue;
      }
      if (counted() >= settings.connectionLimit && !shedOldest()) return;
      admit(waiting.shift()!);
    }
  };
  const onConnection = (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    if (counted() < settings.connectionLimit || (waiting.length === 0 && shedOldest())) {
      admit(socket);
      return;
    }
    if (waiting.length >= settings.backlog) {
      socket.destroy();
      return;
    }
    if (waiting.length === 0) {
      logger.warn(`waitstate: connection_limit (${settings.connectionLimit}) reached and no connection can be shed; new connections wait`);
    }
    waiting.push(socket);
    socket.on('error', () => {}); // a reset while waiting is not worth a crash
    socket.once('close', () => {
      const at = waiting.indexOf(socket);
      if (at !== -1) waiting.splice(at, 1);
    });
  };

  const servers: Server[] = [];
  const addresses: BoundAddress[] = [];
  try {
    for (const endpoint of await resolveEndpoints(settings)) {
      // With processes, the primary cleared it once (the processes share one listener).
      if (endpoint.kind === 'unix' && cluster.isPrimary) await clearStaleSocket(endpoint.path);
      const [server, address] = await createListener(endpoint, settings.backlog, onConnection);
      servers.push(server);
      addresses.push(address);
    }
    if (addresses.some((a) => a.family === 'unix') && addresses.some((a) => a.family !== 'unix')) {
      throw new OptionError('sockets', 'Internet and Unix sockets may not be mixed (as in Waitress)');
    }
  } catch (error) {
    for (const server of servers) server.close();
    await closeOpened();
    throw error;
  }

  const releaseGlobals = settings.overrideGlobalObjects ? installLiteResponse() : () => {};
  const checksDeadlines = settings.headerTimeout > 0 || settings.bodyMinRate > 0 || settings.handlerTimeout > 0;

  const supervisor = startSupervisor(
    {
      sweepIdleChannels() {
        // The channel machine decides whether a timeout closes it (never while its task runs).
        const deadline = Date.now() - settings.channelTimeout * 1000;
        for (const channel of channels) if (channel.lastActivity < deadline) channel.send({ type: 'channel.timeout' });
      },
      sweepDeadlines() {
        // Connections that wait at connection_limit get in as soon as one can be shed.
        admitWaiting();
        if (!checksDeadlines) return;
        const now = Date.now();
        for (const channel of channels) channel.checkDeadlines(now);
      },
      replaceWorkers: () => pool?.replaceWorkers(),
    },
    settings.cleanupInterval * 1000,
    logger,
    observer,
  );
  pool?.reportTo((event) => supervisor.send(event));

  let closed: Promise<void> | undefined;
  return {
    addresses,
    inspector: inspection?.url,
    get connections() {
      return channels.size;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        const listenersClosed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
        const channelsClosed = new Promise<void>((resolve) => {
          resolveClosed = resolve;
          if (channels.size === 0) resolve();
        });
        for (const channel of [...channels]) channel.shutdown();
        for (const socket of waiting.splice(0)) socket.destroy();
        // Requests still running after the grace period lose their connections (their apps see
        // request.signal abort), as a client reset would do.
        const grace = setTimeout(() => {
          if (channels.size === 0) return;
          logger.warn(
            `waitstate: closing ${channels.size} connection(s) whose requests did not finish within shutdown_timeout (${settings.shutdownTimeout} s)`,
          );
          for (const channel of channels) channel.socket.destroy();
        }, settings.shutdownTimeout * 1000);
        await Promise.all([listenersClosed, channelsClosed]);
        clearTimeout(grace);
        supervisor.stop();
        await closeOpened(); // the worker pool, the access log, the trace, the inspector
        releaseGlobals();
      })();
      return closed;
    },
  };
}
