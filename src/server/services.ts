// src/server/services.ts: what a server opens before it listens and closes after its last
// connection: the access log, the trace, the inspector, and the app (inline, or loaded by a pool
// of worker threads). What was opened is closed again if start-up fails later.

import { loadAppRef, resolveAppRef } from '../app-ref.js';
import { toHandler, type App, type FetchHandler } from '../app.js';
import { optionError, type ResolvedOptions } from '../config/options.js';
import { openLogOutput, type OpenedLog } from '../observe/access-log.js';
import type { Inspector } from '../observe/inspector.js';
import { combineObservers, traceObserver } from '../observe/trace.js';
import type { InspectionObserver } from '../runtime/machine.js';
import { WorkerPool } from '../workers/pool.js';

interface Closable {
  close(): Promise<void>;
}

/** What start-up opened, closed together: when start-up fails part-way, and when the server has closed. */
export class OpenedResources {
  readonly #opened: Closable[] = [];

  /** Remember `resource` (when there is one) to be closed by closeAll(); returns it. */
  keep<T extends Closable | undefined>(resource: T): T {
    if (resource !== undefined) this.#opened.push(resource);
    return resource;
  }

  /** Close everything kept so far; what is kept later is closed by the next call. */
  async closeAll(): Promise<void> {
    await Promise.all(this.#opened.splice(0).map((resource) => resource.close()));
  }
}

/** What the channels are served with. */
/** Where a warning found while starting goes (the app looks like a factory): the log, or a cluster's primary. */
export type StartupWarn = (warning: string) => void;

export interface Services {
  /** The app, called inline; with worker threads, a handler that is never called. */
  readonly handler: FetchHandler;
  /** The app's reference (`MODULE:OBJECT`) as given, for the log; undefined for an app given as a value. */
  readonly appRef: string | undefined;
  /** The worker threads running the app, when `threads` > 0. */
  readonly pool: WorkerPool | undefined;
  readonly accessLog: OpenedLog | undefined;
  readonly inspector: Inspector | undefined;
  /** What watches the machines: the inspector, the trace, both, or nothing. */
  readonly observer: InspectionObserver | undefined;
}

/** With worker threads the main thread never calls the app itself. */
const unreachableHandler: FetchHandler = () => {
  throw new Error('waitstate: the app runs in worker threads');
};

/**
 * Open what the channels are served with, each kept in `opened`. The outputs are opened first: a
 * path that cannot be written fails start-up before any worker starts. If anything fails, what
 * was opened is closed before the error is thrown.
 */
export async function openServices(
  app: App | string,
  settings: ResolvedOptions,
  opened: OpenedResources,
  warn: StartupWarn = (warning) => settings.logger.warn(warning),
): Promise<Services> {
  const { logger } = settings;
  if (settings.threads > 0 && typeof app !== 'string') {
    throw optionError(
      settings.spelling,
      'threads',
      'worker threads need the app as a module reference such as "./app.mjs:app" (a function cannot be sent to a thread); use threads: 0 to run a function inline',
    );
  }
  try {
    const accessLog = opened.keep(
      openLogOutput('accessLog', settings.accessLog, (error) => logger.error('waitstate: access log:', error), settings.spelling),
    );
    const trace = opened.keep(
      openLogOutput('trace', settings.trace, (error) => logger.error('waitstate: trace:', error), settings.spelling),
    );
    // Loaded only when asked for: @statelyai/inspect costs start-up time and memory.
    const inspector =
      settings.inspect === false
        ? undefined
        : opened.keep(await (await import('../observe/inspector.js')).startInspector(settings.inspect, settings.spelling));
    const observer = combineObservers(inspector?.observer, trace === undefined ? undefined : traceObserver(trace.output));
    if (settings.threads > 0) {
      const pool = opened.keep(
        new WorkerPool(
          resolveAppRef(app as string, process.cwd()),
          { threads: settings.threads, window: settings.dispatchWindow, concurrency: settings.threadConcurrency },
          logger,
          settings.machineRuntime,
          settings.overrideGlobalObjects,
          observer,
        ),
      );
      const factoryHint = await pool.start();
      if (factoryHint !== undefined) warn(factoryHint);
      return { handler: unreachableHandler, appRef: app as string, pool, accessLog, inspector, observer };
    }
    if (typeof app !== 'string') return { handler: toHandler(app), appRef: undefined, pool: undefined, accessLog, inspector, observer };
    const loaded = await loadAppRef(app, process.cwd());
    if (loaded.factoryHint !== undefined) warn(loaded.factoryHint);
    return { handler: toHandler(loaded.app), appRef: app, pool: undefined, accessLog, inspector, observer };
  } catch (error) {
    await opened.closeAll();
    throw error;
  }
}
