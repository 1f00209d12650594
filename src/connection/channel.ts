// src/connection/channel.ts: one connection's socket glue, carrying out what the channel machine
// decides.
//
// The channel machine (machines/channel.ts) owns the lifecycle; this class turns socket events
// into machine events and implements the named actions. It makes no protocol decision of its own
// and keeps no fact about the connection's life (a FIN, a shutdown): the machine remembers those.
// It is made of three parts: a RequestReader (src/connection/request-reader.ts) parses requests
// on their way in and hands each over as a value, a Task (src/connection/task.ts) runs one in the
// app, and an OutputBuffer (src/connection/output-buffer.ts) batches what goes out. This class
// carries out the lifecycle between them: starting tasks, closing (the linger timer), shedding,
// shutdown, and reporting a request's progress to the deadline sweep. When the app takes the
// connection over (upgradeWebSocket()), it stops reading HTTP and gives the socket to the
// WebSocket layer (src/websocket/hub.ts); it still counts as a connection until the socket closes.

import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import {
  channelMachine,
  type ChannelContext,
  type ChannelDeadlines,
  type ChannelEvent,
  type ChannelInput,
  type ConnectionFacts,
} from '../../machines/channel.js';
import type { Settings } from '../config/options.js';
import { httpDate } from '../http/date.js';
import { bodyTooSlow, headTimedOut, SHED } from '../http/errors.js';
import type { ProxyHeader } from '../http/proxy-headers.js';
import { errorResponse } from '../http/response.js';
import type { HttpError } from '../http/types.js';
import { RunnableMachine, type RunningMachine } from '../runtime/machine.js';
import { OutputBuffer, type OutputHost } from './output-buffer.js';
import {
  RequestReader,
  type ProxyPolicy,
  type ReceivedRequest,
  type RequestReaderConfig,
  type RequestReaderHost,
} from './request-reader.js';
import { Task, type TaskConfig, type TaskHost } from './task.js';
import { GOING_AWAY, type WebSocketHub } from '../websocket/hub.js';

/** How long a closing connection keeps draining the client's bytes before it is destroyed (RFC 9112 §9.6). */
export const LINGER_MS = 2_000;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
/** The reason of the 1001 a shutdown closes WebSockets with. */
const SHUTTING_DOWN = 'The server is shutting down';

/** The channel machine's events as this shell sends them: request.complete carries a ReceivedRequest. */
type ConnectionEvent = ChannelEvent<ReceivedRequest>;
// Facts without a payload, sent as they are: nothing is allocated for them.
const INPUT_INCOMPLETE: ConnectionEvent = { type: 'input.incomplete' };
const OUTPUT_ENDED: ConnectionEvent = { type: 'output.ended' };
const LINGER_EXPIRED: ConnectionEvent = { type: 'linger.expired' };

const runnableChannel = new RunnableMachine<ChannelContext<ReceivedRequest>, ConnectionEvent, ChannelInput<ReceivedRequest>>(
  channelMachine.provide({
    actions: {
      parseInput: ({ context }) => context.shell.parseInput(),
      resumeReading: ({ context }) => context.shell.resumeReading(),
      writeContinue: ({ context }) => context.shell.writeContinue(),
      writeErrorResponse: ({ context, event }) => {
        if (event.type === 'request.invalid') context.shell.writeErrorResponse(event.error);
      },
      writeTimeoutResponse: ({ context, event }) => {
        if (event.type === 'server.shedding') context.shell.writeTimeoutResponse('shed');
        else if (event.type === 'deadline.check') context.shell.writeTimeoutResponse(event.headSince > 0 ? 'head' : 'body');
      },
      // The definition names the request by its head alone (machines/channel.ts ChannelRequest);
      // the event is the one this shell sent, so the request is the ReceivedRequest it carried.
      startTask: ({ context, event }) => {
        if (event.type === 'request.complete') context.shell.startTask(event.request, context.peerEnded);
      },
      signalClientLeft: ({ context }) => context.shell.signalClientLeft(),
      abortTask: ({ context }) => context.shell.abortTask(),
      upgradeConnection: ({ context }) => context.shell.upgradeConnection(),
      closeWebSocket: ({ context }) => context.shell.closeWebSocket(),
      closeWhenFlushed: ({ context }) => context.shell.closeWhenFlushed(),
      linger: ({ context }) => context.shell.linger(),
      release: ({ context }) => context.shell.release(),
    },
  }),
);

/** What every channel of one server shares. */
export interface ChannelConfig extends TaskConfig, RequestReaderConfig {
  /** The deadlines of requests on their way in (header_timeout, body_min_rate). */
  readonly deadlines: ChannelDeadlines;
  /** Where connections the app takes over go (upgradeWebSocket()). */
  readonly websockets: WebSocketHub;
  onClosed(channel: Channel): void;
}

export function channelDeadlines(settings: Settings): ChannelDeadlines {
  return {
    headerTimeoutMs: settings.headerTimeout * 1000,
    bodyMinRate: settings.bodyMinRate,
    bodyGraceMs: settings.bodyGracePeriod * 1000,
  };
}

export function proxyPolicy(settings: Settings): ProxyPolicy | undefined {
  if (settings.trustedProxy === '' && !settings.clearUntrustedProxyHeaders) return undefined;
  return {
    trustedProxy: settings.trustedProxy,
    trust: { count: settings.trustedProxyCount, headers: new Set(settings.trustedProxyHeaders as ProxyHeader[]) },
    clearUntrusted: settings.clearUntrustedProxyHeaders,
    logUntrusted: settings.logUntrustedProxyHeaders,
  };
}

let nextChannelId = 1;

export class Channel implements RequestReaderHost, OutputHost, TaskHost {
  readonly id = nextChannelId++;
  readonly config: ChannelConfig;
  readonly socket: Socket;
  /** Date.now() at the last byte in or out, for the idle sweep. */
  lastActivity = Date.now();

  readonly #machine: RunningMachine<ConnectionEvent, ChannelContext<ReceivedRequest>>;
  readonly #reader: RequestReader;
  readonly #output: OutputBuffer;
  #task: Task | undefined;
  #released = false;
  /** The status of the error response this channel wrote itself, for traces (0: none). */
  #statusSent = 0;
  #lingerTimer: NodeJS.Timeout | undefined;
  /** Once the connection is a WebSocket: ws's socket, which frames it. */
  #websocket: WebSocket | undefined;
  // The socket listeners of HTTP, removed when the connection leaves it.
  readonly #onDataListener = (chunk: Buffer): void => this.#onData(chunk);
  readonly #onEndListener = (): void => this.#onEnd();
  readonly #onErrorListener = (error: Error): void => this.#onSocketError(error);

  constructor(socket: Socket, config: ChannelConfig) {
    this.socket = socket;
    this.config = config;
    this.#output = new OutputBuffer(socket, this, config.settings.outbufOverflow);
    this.#reader = new RequestReader(this, config, socket);
    this.#machine = runnableChannel.start(
      config.settings.machineRuntime,
      { shell: this, deadlines: config.deadlines },
      (error) => this.fail(error),
      config.inspect,
    );
    socket.on('data', this.#onDataListener);
    socket.on('end', this.#onEndListener);
    socket.on('error', this.#onErrorListener);
    socket.on('close', () => this.#send({ type: 'socket.closed' }));
  }

  /** Send a channel event from outside (server, sweep, task), containing any internal failure. */
  send(event: ConnectionEvent): void {
    this.#send(event);
  }

  /**
   * The deadline sweep: report how far the request on its way in got, and how long the app has
   * had the running one; the channel and task machines judge.
   */
  checkDeadlines(now: number): void {
    const reader = this.#reader;
    const headSince = reader.headSince;
    if (headSince !== 0 || reader.bodySince !== 0) {
      // While the server itself holds the body back (a temp file's writes lag), its clock stops.
      const bodySince = reader.paused ? 0 : reader.bodySince;
      this.#send({ type: 'deadline.check', now, headSince, bodySince, bodyBytes: reader.bodyBytes });
    }
    this.#task?.checkDeadline(now);
  }

  /** The connection is a WebSocket (upgradeWebSocket()): the sweeps leave it to ws. */
  get upgraded(): boolean {
    return this.#websocket !== undefined;
  }

  /** Still waiting for a whole head (idle between requests, or part of a head in): may be shed at connection_limit. */
  get awaitingHead(): boolean {
    return this.#machine.state === 'reading' && this.#reader.atHead;
  }

  /** connection_limit is reached and this is the connection to give up: the machine decides how. */
  shed(): void {
    this.#send({ type: 'server.shedding', requestBegun: this.#reader.pending > 0 });
  }

  /** The server is stopping: the machine closes now if idle, else after the response in progress. */
  shutdown(): void {
    this.#send({ type: 'server.closing', idle: this.#reader.pending === 0 });
  }

  /** What the channel machine remembers of this connection (a FIN, a shutdown), for persists(). */
  get connectionFacts(): ConnectionFacts {
    return this.#machine.context;
  }

  /** Bytes received and not yet parsed: requests pipelined behind the one running. */
  get pendingInput(): number {
    return this.#reader.pending;
  }

  /** The connection is gone (released, or dropped after an internal error). */
  get released(): boolean {
    return this.#released;
  }

  /** Drop the connection at once (a task's internal error); 'close' follows and releases it. */
  destroy(): void {
    this.socket.destroy();
  }

  /** A defect in our own code (or a temp file that failed): log it and drop the connection, never the process. */
  fail(error: unknown): void {
    if (this.#released) return;
    this.config.logger.error(`waitstate: connection ${this.id}: internal error, closing:`, error);
    this.#released = true;
    this.socket.destroy();
    this.#task?.abandon();
    this.config.onClosed(this);
  }

  // ---- socket events -------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    const reader = this.#reader;
    if (reader.discarding) return;
    reader.append(chunk);
    this.#send({ type: 'socket.data' });
    // Flow control, not protocol: a client pipelining faster than we answer waits in TCP.
    if (this.#task !== undefined) reader.pauseIfFull();
  }

  #onEnd(): void {
    this.#send({ type: 'socket.ended', requestSpooling: this.#reader.spooling });
  }

  #onSocketError(error: Error & { code?: string }): void {
    if (this.config.settings.logSocketErrors && error.code !== 'ECONNRESET' && error.code !== 'EPIPE') {
      this.config.logger.warn(`waitstate: connection ${this.id}: socket error:`, error.message);
    }
    // 'close' follows and is reported as socket.closed.
  }

  #send(event: ConnectionEvent): void {
    if (this.#released) return;
    try {
      this.#machine.send(event);
    } catch (error) {
      this.fail(error);
    }
  }

  // ---- from the request reader (RequestReaderHost) -------------------------------------------
  // All but requestComplete come only while input is parsed, inside a channel machine action:
  // the event waits in the machine's queue until that action's step is over.

  headAwaitsContinue(bodyStarted: boolean): void {
    this.#machine.send({ type: 'request.head', expectsContinue: true, bodyStarted });
  }

  requestComplete(request: ReceivedRequest): void {
    // Synchronously while input is parsed (inside a machine action), or once a spooled body is on disk.
    this.#send({ type: 'request.complete', request });
  }

  requestInvalid(error: HttpError): void {
    this.#machine.send({ type: 'request.invalid', error });
  }

  pauseSocket(): void {
    this.socket.pause();
  }

  resumeSocket(): void {
    this.socket.resume();
  }

  // ---- from the output buffer (OutputHost) ---------------------------------------------------

  outputDrained(): void {
    this.#send({ type: 'output.drained', pipelined: this.#reader.pending > 0 });
  }

  spillSent(): void {
    this.#endOutput();
  }

  // ---- channel machine actions ---------------------------------------------------------------

  parseInput(): void {
    this.#reader.parse();
  }

  resumeReading(): void {
    this.#task = undefined;
    const reader = this.#reader;
    reader.nextRequest();
    if (reader.pending === 0) return;
    // A request handed over is queued for the machine and goes first, and one whose body is
    // still being written to disk is whole too; only when none came of what was buffered does
    // the machine hear so (and decides what a FIN means for it).
    if (!reader.parse() && !reader.spooling) this.#machine.send(INPUT_INCOMPLETE);
  }

  writeContinue(): void {
    this.#output.writeLatin1(CONTINUE);
  }

  writeErrorResponse(error: HttpError): void {
    this.config.logger.info(`waitstate: connection ${this.id}: ${error.status} ${error.code}: ${error.reason}`);
    this.#output.writeBytes(errorResponse(error, '1.1', httpDate(Date.now()), this.config.ident, this.#reader.forHead));
    this.#statusSent = error.status;
  }

  /** For traces: the status of the error response this channel wrote (0 when it wrote none). */
  get statusSent(): number {
    return this.#statusSent;
  }

  writeTimeoutResponse(cause: 'head' | 'body' | 'shed'): void {
    const { settings } = this.config;
    this.writeErrorResponse(
      cause === 'shed'
        ? SHED
        : cause === 'head'
          ? headTimedOut(settings.headerTimeout)
          : bodyTooSlow(settings.bodyMinRate, settings.bodyGracePeriod),
    );
  }

  startTask(request: ReceivedRequest, clientLeft: boolean): void {
    const task = new Task(this, this.#output, request);
    this.#task = task;
    task.start();
    if (clientLeft) task.clientLeft();
  }

  signalClientLeft(): void {
    this.#task?.clientLeft();
  }

  abortTask(): void {
    this.#task?.abandon();
  }

  upgradeConnection(): void {
    const handOver = this.#task?.handOver;
    this.#task = undefined;
    if (handOver === undefined) throw new Error('upgradeConnection: the task has nothing to hand over');
    const socket = this.socket;
    // Responses pipelined before the handshake leave first: ws writes the 101 straight to the socket.
    this.#output.flush();
    this.#output.detach();
    socket.off('data', this.#onDataListener);
    socket.off('end', this.#onEndListener);
    socket.off('error', this.#onErrorListener);
    // RFC 6455 §4.2.2: what the client sent after the handshake is the start of its frames.
    const pending = this.#reader.takePending();
    this.#websocket = this.config.websockets.handOver(socket, handOver.head, pending, handOver.lines, handOver.takeover);
    // A reader that paused the socket for flow control leaves it to ws now.
    socket.resume();
  }

  closeWebSocket(): void {
    this.#websocket?.close(GOING_AWAY, SHUTTING_DOWN);
  }

  closeWhenFlushed(): void {
    this.#reader.discardInput();
    this.#output.flush();
    if (!this.#output.endWhenSpillSent()) this.#endOutput();
  }

  /** Half-close: our FIN follows everything written. */
  #endOutput(): void {
    this.socket.end();
    this.#send(OUTPUT_ENDED);
  }

  linger(): void {
    this.#lingerTimer = setTimeout(() => this.#send(LINGER_EXPIRED), LINGER_MS);
    this.#lingerTimer.unref();
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#output.close();
    this.#reader.discard();
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    this.#task?.abandon();
    this.socket.destroy();
    this.config.onClosed(this);
  }
}
