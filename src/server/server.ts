// src/server/server.ts: one process's server: its listeners, the set of live channels, the
// sweeps, and close().
//
// Each accepted socket becomes a Channel whose machine runs independently (a root, never a
// child: xstate copies a parent's children on every spawn, so thousands of children cost
// quadratic time); the server keeps them
// in a plain Set. close() stops the listeners, tells every channel the server is closing (idle
// ones close at once, busy ones after their response) and resolves when the last one is gone.

import type { Server, Socket } from 'node:net';
import { Channel, channelDeadlines, proxyPolicy, type ChannelConfig } from '../connection/channel.js';
import { openLogOutput, type OpenedLog } from '../observe/access-log.js';
import type { Inspector } from '../observe/inspector.js';
import type { InspectionObserver } from '../runtime/machine.js';
import { combineObservers, traceObserver } from '../observe/trace.js';
import { loadAppRef, resolveAppRef } from '../app-ref.js';
import { OptionError } from '../errors.js';
import type { ResolvedOptions } from '../config/options.js';
import { installLiteResponse } from '../fetch/response.js';
import { bindAll } from './listeners.js';
import { startSupervisor } from './supervisor.js';
import { WorkerPool } from '../workers/pool.js';
import { toHandler, type App, type BoundAddress, type FetchHandler, type ServerHandle } from '../app.js';

/** After a scan at connection_limit found no connection to shed, the next scan waits this long. */
const SHED_RESCAN_MS = 100;

/** With worker threads the main thread never calls the app itself. */
const unreachableHandler: FetchHandler = () => {
  throw new Error('waitstate: the app runs in worker threads');
};

/** Serve in this process, with options already resolved (and their warnings said). */
export async function startServer(app: App | string, settings: ResolvedOptions): Promise<ServerHandle> {
  const { logger } = settings;
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
  let inspection: Inspector | undefined;
  let observer: InspectionObserver | undefined;
  try {
    accessLog = keep(openLogOutput('accessLog', settings.accessLog, (error) => logger.error('waitstate: access log:', error)));
    trace = keep(openLogOutput('trace', settings.trace, (error) => logger.error('waitstate: trace:', error)));
    // Loaded only when asked for: @statelyai/inspect and ws cost start-up time and memory.
    inspection =
      settings.inspect === false ? undefined : keep(await (await import('../observe/inspector.js')).startInspector(settings.inspect));
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

  let listening: { servers: Server[]; addresses: BoundAddress[] };
  try {
    listening = await bindAll(settings, onConnection);
  } catch (error) {
    await closeOpened();
    throw error;
  }
  const { servers, addresses } = listening;

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
