// src/server/serve.ts: serve(), the front door: it reads how it was called, resolves the
// options, and starts the in-process server (src/server/server.ts) or, with processes > 1, a
// cluster of them (src/server/cluster.ts).

import { readFileSync } from 'node:fs';
import type { App, FetchHandler, ServerHandle } from '../app.js';
import { LIBRARY_SPELLING, spell, resolveOptions, type ResolvedOptions, type ServeOptions, type Spelling } from '../config/options.js';
import { serveCluster } from './cluster.js';
import { listeningInfo, readServeCall, type ListeningListener, type NodeServerOptions } from './serve-call.js';
import { startServer } from './server.js';
import type { StartupWarn } from './services.js';

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
    const handle = await startServing(call.app, call.options, { spelling: LIBRARY_SPELLING });
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

/** How options reached serve(): what its messages call them, and what to say once at start-up. */
export interface OptionsOrigin {
  readonly spelling: Spelling;
  /** Info lines about how the options were read (a config file's sections left unread). */
  readonly notes?: readonly string[];
  /** A cluster process: its primary said the start-up warnings and notes already. */
  readonly said?: boolean;
  /** Where warnings found while starting go (the app looks like a factory): a cluster process sends them to its primary, which says each once. */
  readonly warn?: StartupWarn;
}

/**
 * serve() for a caller that spells the options its own way (waitstate-serve: flags and config
 * keys; a cluster process: as its primary was told), so that every message names them so.
 */
export async function startServing(app: App | string, options: ServeOptions, origin: OptionsOrigin): Promise<ServerHandle> {
  const settings = resolveOptions(options as Record<string, unknown>, origin.spelling);
  if (origin.said !== true) {
    for (const note of origin.notes ?? []) settings.logger.info(note);
    for (const warning of settings.warnings) settings.logger.warn(warning);
    warnNearOpenFileLimit(settings);
  }
  // One process serves in-process; more are a cluster of such processes, each one running this.
  return settings.processes > 1 ? serveCluster(app, options, settings) : startServer(app, settings, origin.warn);
}

/** Past the open-file limit the kernel refuses connections before connection_limit can shed one. */
function warnNearOpenFileLimit({ connectionLimit, logger, spelling }: ResolvedOptions): void {
  const openFiles = openFileLimit();
  if (openFiles !== undefined && connectionLimit + OPEN_FILES_RESERVE > openFiles) {
    logger.warn(
      `waitstate: ${spell(spelling, 'connectionLimit')} (${connectionLimit}) is near or above this process's open-file limit (${openFiles}, ulimit -n): ` +
        `past it the kernel refuses connections before waitstate can shed one; raise the limit or lower ${spell(spelling, 'connectionLimit')}`,
    );
  }
}
