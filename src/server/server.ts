// src/server/server.ts: one process's server: its listeners, the set of live channels, the
// sweeps, and close().
//
// Each accepted socket becomes a Channel whose machine runs independently (a root, never a
// child: xstate copies a parent's children on every spawn, so thousands of children cost
// quadratic time); the server keeps them
// in a plain Set. close() stops the listeners, tells every channel the server is closing (idle
// ones close at once, busy ones after their response) and resolves when the last one is gone.
//
// The server's life is a plain field with named transitions rather than a machine: four states
// in a line, each entered by the server's own code (listen() returns or fails, close() is
// called, the last channel goes), and the one decision that reads it, whether a connection is
// taken, is a comparison. The machines that decide things with timers and events (the
// supervisor, each channel) are actors.

import type { Server as Listener, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Channel, channelDeadlines, proxyPolicy, type ChannelConfig } from '../connection/channel.js';
import type { ResolvedOptions } from '../config/options.js';
import { installLiteResponse } from '../fetch/response.js';
import type { App, BoundAddress, ServerHandle } from '../app.js';
import { Admission } from './admission.js';
import { bindAll } from './listeners.js';
import { openServices, OpenedResources, type Services, type StartupWarn } from './services.js';
import { startSupervisor, type Supervisor } from './supervisor.js';
import { WebSocketHub } from '../websocket/hub.js';
import { TlsFront } from './tls-front.js';

/**
 * Where a server is in its life:
 * - `starting`: binding the listeners; one bound first serves its connections while the others bind.
 * - `serving`: listening; channels are served, connection_limit kept, the sweeps run.
 * - `draining`: close() was called. The listeners are closed, connections that arrive or were
 *   waiting are closed unserved, idle channels close at once and busy ones after their response
 *   (or at shutdown_timeout).
 * - `closed`: the last channel is gone, the supervisor stopped, what start-up opened closed. A
 *   start-up whose listeners cannot be bound ends here too.
 */
export type ServerState = 'starting' | 'serving' | 'draining' | 'closed';

/** Serve in this process, with options already resolved (and their warnings said). */
export async function startServer(app: App | string, settings: ResolvedOptions, warn?: StartupWarn): Promise<ServerHandle> {
  const opened = new OpenedResources();
  const services = await openServices(app, settings, opened, warn);
  const server = new InProcessServer(settings, services, opened);
  await server.listen();
  return {
    addresses: server.addresses,
    inspector: services.inspector?.url,
    get connections() {
      return server.connections;
    },
    close() {
      return server.close();
    },
  };
}

export class InProcessServer {
  #state: ServerState = 'starting';
  readonly #settings: ResolvedOptions;
  readonly #services: Services;
  /** What start-up opened: the worker pool, the access log, the trace, the inspector. */
  readonly #opened: OpenedResources;
  /** Live channels, in accept order. */
  readonly #channels = new Set<Channel>();
  readonly #config: ChannelConfig;
  readonly #admission: Admission;
  /** With HTTPS: where admitted connections shake hands before they become channels. */
  readonly #tls: TlsFront | undefined;
  readonly #checksDeadlines: boolean;
  #listeners: Listener[] = [];
  #addresses: BoundAddress[] = [];
  #supervisor: Supervisor | undefined;
  #releaseGlobals: () => void = () => {};
  /** Called when the last channel is gone while draining. */
  #drained: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(settings: ResolvedOptions, services: Services, opened: OpenedResources) {
    this.#settings = settings;
    this.#services = services;
    this.#opened = opened;
    this.#config = channelConfig(settings, services, (channel) => this.#channelClosed(channel));
    this.#tls =
      settings.tlsServer === undefined
        ? undefined
        : new TlsFront(
            settings.tlsServer,
            settings.logger,
            (socket) => this.#secured(socket),
            () => this.#admitWaiting(),
          );
    const tls = this.#tls;
    this.#admission = new Admission(
      this.#channels,
      settings,
      (socket) => this.#admit(socket),
      tls === undefined ? undefined : () => tls.pending,
    );
    this.#checksDeadlines = settings.headerTimeout > 0 || settings.bodyMinRate > 0 || settings.handlerTimeout > 0;
  }

  get state(): ServerState {
    return this.#state;
  }

  /** What was really bound (port 0 resolved), once listening. */
  get addresses(): BoundAddress[] {
    return this.#addresses;
  }

  /** Open connections right now, shed ones still closing and TLS handshakes under way included. */
  get connections(): number {
    return this.#channels.size + (this.#tls?.pending ?? 0);
  }

  /** starting → serving: bind every listener and start the sweeps; if one cannot be bound, → closed. */
  async listen(): Promise<void> {
    try {
      ({ servers: this.#listeners, addresses: this.#addresses } = await bindAll(this.#settings, (socket) => this.#onConnection(socket)));
    } catch (error) {
      await this.#opened.closeAll();
      this.#state = 'closed';
      throw error;
    }
    this.#releaseGlobals = this.#settings.overrideGlobalObjects ? installLiteResponse() : () => {};
    const supervisor = this.#startSupervisor();
    this.#supervisor = supervisor;
    this.#services.pool?.reportTo((event) => supervisor.send(event));
    this.#state = 'serving';
  }

  /** serving → draining → closed; resolves once closed. Called again, the same promise. */
  close(): Promise<void> {
    this.#closed ??= this.#drain();
    return this.#closed;
  }

  /** Connections are taken until close(), also while the listeners are still being bound. */
  #takesConnections(): boolean {
    return this.#state === 'starting' || this.#state === 'serving';
  }

  #onConnection(socket: Socket): void {
    if (!this.#takesConnections()) {
      socket.destroy();
      return;
    }
    this.#admission.offer(socket);
  }

  #admit(socket: Socket): void {
    if (this.#tls !== undefined) this.#tls.accept(socket);
    else this.#startChannel(socket);
  }

  #startChannel(socket: Socket): void {
    this.#channels.add(new Channel(socket, this.#config));
    socket.resume(); // sockets arrive paused (pauseOnConnect) so nothing is read before this
  }

  /** A TLS handshake ended well: the connection becomes a channel, unless the server is closing. */
  #secured(socket: TLSSocket): void {
    if (this.#takesConnections()) this.#startChannel(socket);
    else socket.destroy();
  }

  /** Room came (a channel closed), or may have (busy channels went idle): let waiting connections in. */
  #admitWaiting(): void {
    if (this.#takesConnections()) this.#admission.admitWaiting();
  }

  #channelClosed(channel: Channel): void {
    this.#channels.delete(channel);
    this.#admission.forget(channel);
    this.#admitWaiting();
    if (this.#state === 'draining' && this.#channels.size === 0) this.#drained?.();
  }

  #startSupervisor(): Supervisor {
    const settings = this.#settings;
    return startSupervisor(
      {
        sweepIdleChannels: () => {
          // The channel machine decides whether a timeout closes it (never while its task runs).
          // A WebSocket's liveness is ws's pings (idleTimeout), not channel_timeout.
          const deadline = Date.now() - settings.channelTimeout * 1000;
          for (const channel of this.#channels) {
            if (channel.lastActivity < deadline && !channel.upgraded) channel.send({ type: 'channel.timeout' });
          }
        },
        sweepDeadlines: () => {
          // Connections that wait at connection_limit get in as soon as one can be shed.
          this.#admitWaiting();
          if (!this.#checksDeadlines) return;
          const now = Date.now();
          for (const channel of this.#channels) if (!channel.upgraded) channel.checkDeadlines(now);
        },
        replaceWorkers: () => this.#services.pool?.replaceWorkers(),
      },
      settings.cleanupInterval * 1000,
      settings.logger,
      this.#services.observer,
    );
  }

  async #drain(): Promise<void> {
    this.#state = 'draining';
    const listenersClosed = Promise.all(this.#listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve()))));
    const channelsClosed = new Promise<void>((resolve) => {
      this.#drained = resolve;
      if (this.#channels.size === 0) resolve();
    });
    for (const channel of [...this.#channels]) channel.shutdown();
    this.#admission.closeWaiting();
    this.#tls?.close();
    const grace = setTimeout(() => this.#closeLingering(), this.#settings.shutdownTimeout * 1000);
    await Promise.all([listenersClosed, channelsClosed]);
    clearTimeout(grace);
    this.#supervisor?.stop();
    await this.#opened.closeAll(); // the worker pool, the access log, the trace, the inspector
    this.#releaseGlobals();
    this.#state = 'closed';
  }

  /**
   * Requests still running after the grace period lose their connections (their apps see
   * request.signal abort), as a client reset would do; so do WebSockets whose client has not
   * answered the 1001 close (their apps see a close event, 1006).
   */
  #closeLingering(): void {
    if (this.#channels.size === 0) return;
    this.#settings.logger.warn(
      `waitstate: closing ${this.#channels.size} connection(s) whose requests or WebSocket closes did not finish within shutdown_timeout (${this.#settings.shutdownTimeout} s)`,
    );
    for (const channel of this.#channels) channel.socket.destroy();
  }
}

/** What every channel of a server is started with; `onClosed` is told when one is gone. */
function channelConfig(settings: ResolvedOptions, services: Services, onClosed: (channel: Channel) => void): ChannelConfig {
  return {
    app: services.handler,
    pool: services.pool,
    settings,
    logger: settings.logger,
    limits: { maxHeaderBytes: settings.maxRequestHeaderSize, maxBodyBytes: settings.maxRequestBodySize },
    ident: settings.ident === '' ? undefined : settings.ident,
    proxy: proxyPolicy(settings),
    deadlines: channelDeadlines(settings),
    websockets: new WebSocketHub(),
    handlerTimeoutMs: settings.handlerTimeout * 1000,
    droppedFieldsLogged: new Set(),
    factoryHint: { appRef: services.appRef, said: false },
    accessLog: services.accessLog?.output,
    inspect: services.observer,
    onClosed,
  };
}
