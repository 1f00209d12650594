// src/server/cluster.ts: `processes` > 1: N processes through node:cluster sharing the listeners, each
// its own server (with its own worker threads, if any). The way to use every core: one main
// thread does a process's I/O, so more processes are how waitstate scales across cores.
//
// The primary forks the processes (src/server/cluster-worker.ts), waits until every one is listening,
// replaces one that dies (after a second's pause if it died young, so a crash loop does not
// spin) and, on close(), asks each to close gracefully. The app must be a module reference,
// since every process imports it; options cross as JSON, so `logger` does not (each process logs
// through its own built-in logger, in `logFormat`), and `tls` crosses with its Buffers as base64.
// Each process runs its own TLS engine over the shared listeners (its own session ticket keys,
// unless `tls` gives ticketKeys).

import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { Server } from 'node:net';
import { resolveAppRef } from '../app-ref.js';
import { builtScript } from '../built-script.js';
import { optionError, spell, type ResolvedOptions, type ServeOptions, type Spelling, type TlsOption } from '../config/options.js';
import { tlsFromJson, tlsToJson } from '../config/tls.js';
import { clearStaleSocket } from './listeners.js';
import type { BoundAddress, ServerHandle } from '../app.js';
import { fromWorkerError, type WorkerError } from '../workers/protocol.js';

/** What a cluster process is told (in its environment) and tells back (over IPC). */
export interface ClusterPlan {
  appRef: string;
  options: Omit<ServeOptions, 'logger' | 'processes'>;
  /** How the user spelled the options, so that a process's errors name them as the primary's do. */
  spelling: Spelling;
}
/** A failed start-up's error crosses as between threads, so the primary reports it as one process would. */
export type FromClusterProcess =
  | { t: 'listening'; addresses: BoundAddress[] }
  | { t: 'failed'; error: WorkerError }
  /** A warning found while starting (the app looks like a factory): the primary says each once, not once a process. */
  | { t: 'warning'; text: string };
export type ToClusterProcess = { t: 'shutdown' };

export const CLUSTER_PLAN_ENV = 'WAITSTATE_CLUSTER_PLAN';
const YOUNG_MS = 1_000;

export async function serveCluster(app: unknown, options: ServeOptions, settings: ResolvedOptions): Promise<ServerHandle> {
  const { logger, processes } = settings;
  if (settings.unixSocket !== '') await clearStaleSocket(settings.unixSocket, settings.spelling);
  const plan = clusterPlan(app, options, settings);
  cluster.setupPrimary({ exec: builtScript('server/cluster-worker.js'), args: [] });
  const env = { [CLUSTER_PLAN_ENV]: JSON.stringify(plan) };
  let closing = false;
  const live = new Set<ClusterWorker>();
  const said = new Set<string>();
  const sayOnce = (warning: string) => {
    if (!said.has(warning)) logger.warn(warning);
    said.add(warning);
  };

  const startProcess = (): Promise<BoundAddress[]> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork(env);
      const startedAt = Date.now();
      live.add(worker);
      worker.on('message', (message: FromClusterProcess) => {
        if (message.t === 'listening') resolve(message.addresses);
        else if (message.t === 'warning') sayOnce(message.text);
        else reject(fromWorkerError(message.error));
      });
      worker.once('exit', (code, signal) => {
        live.delete(worker);
        reject(new Error(`process ${worker.process.pid} exited (${signal ?? code}) while starting`));
        if (closing) return;
        logger.error(`waitstate: process ${worker.process.pid} exited (${signal ?? code}); starting a replacement`);
        const restart = () =>
          void startProcess().catch((error: Error) => logger.error('waitstate: replacement process failed:', error.message));
        if (Date.now() - startedAt < YOUNG_MS) setTimeout(restart, YOUNG_MS).unref();
        else restart();
      });
    });

  let addresses: BoundAddress[];
  try {
    const all = await Promise.all(Array.from({ length: processes }, startProcess));
    addresses = all[0]!;
  } catch (error) {
    closing = true;
    for (const worker of live) worker.kill();
    throw error;
  }

  let closed: Promise<void> | undefined;
  return {
    addresses,
    /** Counted by each process on its own; the primary holds no connections. */
    connections: 0,
    close() {
      closed ??= (async () => {
        closing = true;
        await Promise.all(
          [...live].map(
            (worker) =>
              new Promise<void>((resolve) => {
                worker.once('exit', () => resolve());
                worker.send({ t: 'shutdown' } satisfies ToClusterProcess);
              }),
          ),
        );
      })();
      return closed;
    },
  };
}

/** What every process is told, once the options are known to be shareable between processes. */
function clusterPlan(app: unknown, options: ServeOptions, settings: ResolvedOptions): ClusterPlan {
  const { spelling } = settings;
  if (typeof settings.accessLog !== 'string') {
    throw optionError(
      spelling,
      'accessLog',
      (o) => `with ${o('processes')}, the access log must be a file path or - (a stream cannot be shared with other processes)`,
    );
  }
  if (settings.sockets.some((socket) => socket instanceof Server)) {
    throw optionError(
      spelling,
      'sockets',
      (o) => `with ${o('processes')}, sockets must be file descriptors (a net.Server cannot be shared with other processes)`,
    );
  }
  if (typeof app !== 'string') {
    throw optionError(spelling, 'processes', 'needs the app as a module reference such as "./app.mjs:app": every process imports it');
  }
  const { logger: _logger, processes: _processes, ...rest } = options;
  if (rest.tls !== undefined) {
    const cannotCross = (at: string) =>
      optionError(spelling, 'tls', (o) => `${at} is a function: with ${o('processes')}, it cannot be sent to the other processes`);
    rest.tls = tlsToJson(rest.tls, spell(spelling, 'tls'), cannotCross) as TlsOption;
  }
  return { appRef: resolveAppRef(app, process.cwd()), options: rest, spelling };
}

/** The options a cluster process serves with, as its primary was given them. */
export function planOptions(plan: ClusterPlan): ClusterPlan['options'] {
  return plan.options.tls === undefined ? plan.options : { ...plan.options, tls: tlsFromJson(plan.options.tls) as TlsOption };
}
