// src/server.ts: listeners, the set of live channels, the idle sweep, and close().
//
// Each accepted socket becomes a Channel whose machine runs independently (a root, never a
// child: research/xstate-comlink.md §1.6 on the cost of many children); the server keeps them
// in a plain Set. close() stops the listeners, tells every channel the server is closing (idle
// ones close at once, busy ones after their response) and resolves when the last one is gone.

import { createServer, type Server, type Socket } from 'node:net';
import { Channel, type ChannelConfig } from './channel.js';
import { loadAppRef, resolveAppRef } from './app-ref.js';
import { serveCluster } from './cluster.js';
import { OptionError, parseListenEntry, resolveOptions, type ListenAddress, type ServeOptions } from './options.js';
import { installLiteResponse } from './response.js';
import type { FetchHandler, RequestInfo } from './task.js';
import { startSupervisor } from './supervisor.js';
import { WorkerPool } from './worker-pool.js';

/** With worker threads the main thread never calls the app itself. */
const unreachableHandler: FetchHandler = () => {
  throw new Error('waitstate: the app runs in worker threads');
};

/** A Fetch handler, or an object with one as its `fetch` method (a Hono app, for instance). */
export type App = FetchHandler | { fetch(request: Request, info: RequestInfo): Response | Promise<Response> };

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
  /** `http://127.0.0.1:8080`, IPv6 in brackets. */
  readonly url: string;
}

export interface ServerHandle {
  /** What was really bound (port 0 resolved). */
  readonly addresses: readonly BoundAddress[];
  /** Open connections right now. */
  readonly connections: number;
  /** Stop accepting, let running requests finish, close idle connections; resolves when all are closed. */
  close(): Promise<void>;
}

function toHandler(app: App): FetchHandler {
  if (typeof app === 'function') return app;
  if (app !== null && typeof app === 'object' && typeof app.fetch === 'function') {
    return (request, info) => app.fetch(request, info);
  }
  throw new TypeError('app must be a function (request, info) => Response, or an object with such a fetch method');
}

function listenAddresses(settings: { listen: readonly string[]; host: string; port: number }): ListenAddress[] {
  if (settings.listen.length === 0) return [{ host: settings.host === '' ? '0.0.0.0' : settings.host, port: settings.port }];
  return settings.listen.map((entry) => parseListenEntry(entry, settings.port)!);
}

function listen(server: Server, address: ListenAddress, backlog: number): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(new Error(`listen ${address.host}:${address.port}: ${error.message}`, { cause: error }));
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port, backlog }, () => {
      server.off('error', onError);
      const bound = server.address();
      if (bound === null || typeof bound === 'string') {
        reject(new Error(`listen ${address.host}:${address.port}: no TCP address`));
        return;
      }
      const family = bound.family === 'IPv6' ? 'IPv6' : 'IPv4';
      const host = family === 'IPv6' ? `[${bound.address}]` : bound.address;
      resolve({ host: bound.address, port: bound.port, family, url: `http://${host}:${bound.port}` });
    });
  });
}

/**
 * Serve a Fetch app over HTTP/1.1; resolves once every listener is bound (and every worker has
 * loaded the app). `app` is a handler, an object with a `fetch` method, or a reference
 * `"MODULE:OBJECT"` (a module path relative to the current directory); worker threads
 * (`threads` > 0) need a reference, since a function cannot be sent to another thread.
 */
export async function serve(app: App | string, options: ServeOptions = {}): Promise<ServerHandle> {
  const settings = resolveOptions(options as Record<string, unknown>);
  const { logger } = settings;
  if (settings.processes > 1) return serveCluster(app, options, settings.processes, logger);
  let handler: FetchHandler = unreachableHandler;
  let pool: WorkerPool | undefined;
  if (settings.threads > 0) {
    if (typeof app !== 'string') {
      throw new OptionError(
        'threads',
        'worker threads need the app as a module reference such as "./app.mjs:app" (a function cannot be sent to a thread); use threads: 0 to run a function inline',
      );
    }
    pool = new WorkerPool(
      resolveAppRef(app, process.cwd()),
      settings.threads,
      settings.dispatchWindow,
      logger,
      settings.machineRuntime,
      settings.overrideGlobalObjects,
    );
    await pool.start();
  } else {
    handler = toHandler(typeof app === 'string' ? await loadAppRef(app, process.cwd()) : app);
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
    onClosed(channel) {
      channels.delete(channel);
      admitWaiting();
      if (closing && channels.size === 0) resolveClosed?.();
    },
  };

  // connection_limit (Ranch's conns_sup, Waitress's readable()): beyond it a connection is not
  // taken as a channel; it waits, unread, until one closes, like a connection in the kernel's
  // backlog. At most `backlog` wait; more are closed.
  const waiting: Socket[] = [];
  const admit = (socket: Socket) => {
    channels.add(new Channel(socket, config));
    socket.resume(); // sockets arrive paused (pauseOnConnect) so nothing is read before this
  };
  const admitWaiting = () => {
    while (!closing && channels.size < settings.connectionLimit && waiting.length > 0) {
      const socket = waiting.shift()!;
      if (!socket.destroyed) admit(socket);
    }
  };
  const onConnection = (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    if (channels.size < settings.connectionLimit) {
      admit(socket);
      return;
    }
    if (waiting.length >= settings.backlog) {
      socket.destroy();
      return;
    }
    if (waiting.length === 0) logger.warn(`waitstate: connection_limit (${settings.connectionLimit}) reached; new connections wait`);
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
    for (const address of listenAddresses(settings)) {
      const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, onConnection);
      servers.push(server);
      addresses.push(await listen(server, address, settings.backlog));
    }
  } catch (error) {
    for (const server of servers) server.close();
    await pool?.close();
    throw error;
  }

  const releaseGlobals = settings.overrideGlobalObjects ? installLiteResponse() : () => {};

  const supervisor = startSupervisor(
    {
      sweepIdleChannels() {
        // The channel machine decides whether a timeout closes it (never while its task runs).
        const deadline = Date.now() - settings.channelTimeout * 1000;
        for (const channel of channels) if (channel.lastActivity < deadline) channel.send({ type: 'channel.timeout' });
      },
      replaceWorkers: () => pool?.replaceWorkers(),
    },
    settings.cleanupInterval * 1000,
    logger,
  );
  pool?.reportTo((event) => supervisor.send(event));

  let closed: Promise<void> | undefined;
  return {
    addresses,
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
        // The supervisor keeps sweeping meanwhile: a stalled half-sent request must not hold close() forever.
        await Promise.all([listenersClosed, channelsClosed]);
        supervisor.stop();
        await pool?.close();
        releaseGlobals();
      })();
      return closed;
    },
  };
}
