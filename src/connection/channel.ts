// src/connection/channel.ts: one connection's socket glue, carrying out what the channel and parser
// machines decide.
//
// The channel machine (machines/channel.ts) owns the lifecycle; this class turns socket events
// into machine events and implements the named actions: it scans bytes with the codec in the
// phase the parser machine is in, writes output, and starts tasks. It makes no protocol
// decision of its own.
//
// Output: everything written while handling one batch of input (several pipelined responses,
// or a 100 Continue and a response) is collected and leaves in one socket write at the end of
// the current turn (`queueMicrotask`), so a pipelined burst costs one syscall, not one each.
//
// Input: bytes are appended to an InputBuffer (src/connection/input-buffer.ts) and consumed by the
// scanner of the parser's current phase; what is left is the next pipelined request.

import type { Socket } from 'node:net';
import type { LogOutput } from '../config/options.js';
import { channelMachine, type ChannelContext, type ChannelDeadlines, type ChannelEvent } from '../../machines/channel.js';
import { parserMachine, type ParserContext, type ParserEvent } from '../../machines/parser.js';
import { BodyBuffer, removeSpooled, type RequestBody } from '../fetch/body-buffer.js';
import { ChunkedDecoder } from '../http/chunked.js';
import { httpDate } from '../http/date.js';
import { bodyTooSlow, ERR, headTimedOut, SHED } from '../http/errors.js';
import { parseHead } from '../http/head.js';
import { readProxyHeaders, type ForwardedClient, type ProxyHeader, type ProxyTrust } from '../http/proxy-headers.js';
import { errorResponse } from '../http/response.js';
import type { HeadLimits, HttpError, RequestHead } from '../http/types.js';
import { InputBuffer } from './input-buffer.js';
import type { Logger, Settings } from '../config/options.js';
import { OutputSpill } from './output-spill.js';
import { RunnableMachine, type RunningMachine, type InspectionObserver } from '../runtime/machine.js';
import { requestUrl } from '../fetch/request.js';
import { Task } from './task.js';
import type { WorkerPool } from '../workers/pool.js';
import type { ConnectionInfo, FetchHandler } from '../app.js';

/** Bytes of unparsed input buffered while a request runs before we stop reading the socket. */
const INPUT_PAUSE_BYTES = 64 * 1024;
/** Pending output that is written at once rather than at the end of the turn. */
const OUTPUT_FLUSH_BYTES = 64 * 1024;
/** How long a closing connection keeps draining the client's bytes before it is destroyed (RFC 9112 §9.6). */
const LINGER_MS = 2_000;
const MAX_TRAILER_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

const runnableChannel = new RunnableMachine<ChannelContext, ChannelEvent>(
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
      startTask: ({ context }) => context.shell.startTask(),
      signalClientLeft: ({ context }) => context.shell.signalClientLeft(),
      abortTask: ({ context }) => context.shell.abortTask(),
      closeWhenFlushed: ({ context }) => context.shell.closeWhenFlushed(),
      release: ({ context }) => context.shell.release(),
    },
  }),
);

const runnableParser = new RunnableMachine<ParserContext, ParserEvent>(
  parserMachine.provide({
    actions: {
      beginBody: ({ context, event }) => {
        if (event.type === 'head.parsed') context.shell.beginBody(event.head);
      },
      deliverRequest: ({ context }) => context.shell.deliverRequest(),
      rejectRequest: ({ context, event }) => {
        if (event.type === 'head.failed' || event.type === 'body.failed') context.shell.rejectRequest(event.error);
      },
    },
  }),
);

/** What every channel of one server shares. */
export interface ChannelConfig {
  readonly app: FetchHandler;
  /** Worker threads running the app, when `threads` > 0; else the app runs inline. */
  readonly pool: WorkerPool | undefined;
  readonly settings: Settings;
  readonly logger: Logger;
  readonly limits: HeadLimits;
  readonly ident: string | undefined;
  /** Where the machines' inspection events go (the `inspect` option; the xstate runtime). */
  readonly inspect: InspectionObserver | undefined;
  /** Where access log lines go; undefined when there is no access log. */
  readonly accessLog: LogOutput | undefined;
  /** What to do with proxy headers; undefined leaves them to the app untouched. */
  readonly proxy: ProxyPolicy | undefined;
  /** The deadlines of requests on their way in (header_timeout, body_min_rate). */
  readonly deadlines: ChannelDeadlines;
  /** handler_timeout in ms; 0: none. */
  readonly handlerTimeoutMs: number;
  /** The (field name, route) pairs whose drop from an app's response was logged (src/connection/task.ts bounds it). */
  readonly droppedFieldsLogged: Set<string>;
  onClosed(channel: Channel): void;
}

/** The proxy options, prepared once per server. */
export interface ProxyPolicy {
  /** An address as the peer appears, `*`, or `localhost` (a Unix socket peer); '' trusts none. */
  readonly trustedProxy: string;
  readonly trust: ProxyTrust;
  readonly clearUntrusted: boolean;
  readonly logUntrusted: boolean;
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

function isTrustedPeer(trustedProxy: string, peer: string): boolean {
  if (trustedProxy === '') return false;
  // An IPv4 client on a dual-stack socket appears as ::ffff:a.b.c.d.
  return trustedProxy === '*' || peer === trustedProxy || (peer.startsWith('::ffff:') && peer.slice(7) === trustedProxy);
}

/** A complete request, ready for a task. */
export interface ReceivedRequest {
  readonly head: RequestHead;
  /** The absolute URL the app sees as request.url (RFC 9112 §3.3). */
  readonly url: string;
  /** The connection's info, or what a trusted proxy said about the client of this request. */
  readonly info: ConnectionInfo;
  /** In memory, or in a temp file past inbuf_overflow (removed when the task ends). */
  readonly body: RequestBody;
}

let nextChannelId = 1;

export class Channel {
  readonly id = nextChannelId++;
  readonly config: ChannelConfig;
  readonly socket: Socket;
  /** Date.now() at the last byte in or out, for the idle sweep. */
  lastActivity = Date.now();
  // For the deadline sweep (Date.now() values, 0: not under way). Set only where a phase spans
  // reads, so a request that arrives in one read costs nothing here.
  /** When the first byte of a head still incomplete arrived. */
  #headSince = 0;
  /** When the body being read began, or resumed after the server paused reading. */
  #bodySince = 0;
  /** Body bytes read since #bodySince. */
  #bodyBytes = 0;
  /** What the app learns about this connection; shared by its requests unless a proxy says otherwise. */
  readonly #connectionInfo: ConnectionInfo;
  /** What a peer that is a trusted proxy may tell us; undefined for any other peer. */
  readonly #proxyTrust: ProxyTrust | undefined;
  /** Our own address as an authority, for request.url when a request has no Host. */
  readonly #authority: string;

  #machine: RunningMachine<ChannelEvent>;
  #parser: RunningMachine<ParserEvent>;
  readonly #input = new InputBuffer();
  #head: RequestHead | undefined;
  #url = '';
  #info: ConnectionInfo;
  /** Bytes of an incomplete head (from the input's start) already searched by parseHead. */
  #headScanned = 0;
  /** The body of the request being read: in memory, then spooled past inbuf_overflow. */
  #body: BodyBuffer | undefined;
  #bodyRemaining = 0;
  #decoder: ChunkedDecoder | undefined;
  /** A complete body whose last writes to its temp file are still under way. */
  #spooling: BodyBuffer | undefined;
  #request: ReceivedRequest | undefined;
  #task: Task | undefined;
  #out = '';
  #outParts: (string | Uint8Array)[] = [];
  #outBytes = 0;
  #flushQueued = false;
  #paused = false;
  #peerEnded = false;
  #serverClosing = false;
  #discardInput = false;
  #released = false;
  #lingerTimer: NodeJS.Timeout | undefined;
  #drainWaiters: (() => void)[] = [];
  /** Output waiting for a slow client beyond outbuf_overflow, on disk; see #pumpSpill. */
  #spill: OutputSpill | undefined;
  /** Resumes #pumpSpill when the socket drains. */
  #spillWaiting: (() => void) | undefined;
  /** closeWhenFlushed came while output was spilled: end the socket once the spill is sent. */
  #endAfterSpill = false;

  constructor(socket: Socket, config: ChannelConfig) {
    this.socket = socket;
    this.config = config;
    // A Unix socket has no addresses: the peer is `localhost`, as in Waitress (and trusted_proxy).
    const localAddress = socket.localAddress;
    const localPort = socket.localPort ?? 0;
    this.#authority =
      localAddress === undefined ? 'localhost' : `${localAddress.includes(':') ? `[${localAddress}]` : localAddress}:${localPort}`;
    this.#connectionInfo = Object.freeze({
      remoteAddress: socket.remoteAddress ?? 'localhost',
      remotePort: socket.remotePort ?? 0,
      urlScheme: config.settings.urlScheme,
      scriptName: config.settings.urlPrefix,
      serverName: config.settings.serverName,
      serverPort: localPort,
    });
    this.#info = this.#connectionInfo;
    const proxy = config.proxy;
    this.#proxyTrust =
      proxy !== undefined && isTrustedPeer(proxy.trustedProxy, this.#connectionInfo.remoteAddress) ? proxy.trust : undefined;
    const runtime = config.settings.machineRuntime;
    const onError = (error: unknown) => this.#fail(error);
    this.#parser = runnableParser.start(runtime, { shell: this }, onError, config.inspect);
    this.#machine = runnableChannel.start(runtime, { shell: this, deadlines: config.deadlines }, onError, config.inspect);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.#onDrain());
    socket.on('error', (error) => this.#onSocketError(error));
    socket.on('close', () => this.#send({ type: 'socket.closed' }));
  }

  /** Send a channel event from outside (server, sweep, task), containing any internal failure. */
  send(event: ChannelEvent): void {
    this.#send(event);
  }

  /**
   * The deadline sweep: report how far the request on its way in got, and how long the app has
   * had the running one; the channel and task machines judge.
   */
  checkDeadlines(now: number): void {
    if (this.#headSince !== 0 || this.#bodySince !== 0) {
      // While the server itself holds the body back (a temp file's writes lag), its clock stops.
      const bodySince = this.#paused ? 0 : this.#bodySince;
      this.#send({ type: 'deadline.check', now, headSince: this.#headSince, bodySince, bodyBytes: this.#bodyBytes });
    }
    this.#task?.checkDeadline(now);
  }

  /** Still waiting for a whole head (idle between requests, or part of a head in): may be shed at connection_limit. */
  get awaitingHead(): boolean {
    return this.#machine.state === 'reading' && this.#parser.state === 'head';
  }

  /** connection_limit is reached and this is the connection to give up: the machine decides how. */
  shed(): void {
    this.#send({ type: 'server.shedding', requestBegun: this.#input.pending > 0 });
  }

  // ---- socket events -------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    if (this.#discardInput) return;
    this.#input.append(chunk);
    this.#send({ type: 'socket.data' });
    if (!this.#paused && this.#input.pending > INPUT_PAUSE_BYTES && this.#task !== undefined) {
      // Flow control, not protocol: a client pipelining faster than we answer waits in TCP.
      this.#paused = true;
      this.socket.pause();
    }
  }

  #onEnd(): void {
    this.#peerEnded = true;
    this.#send({ type: 'socket.ended' });
  }

  #onDrain(): void {
    this.lastActivity = Date.now();
    if (this.#spill !== undefined) {
      // The socket took what it had; the spill goes next, and only then is output drained.
      const resume = this.#spillWaiting;
      this.#spillWaiting = undefined;
      resume?.();
      return;
    }
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resume of waiters) resume();
    this.#send({ type: 'output.drained' });
  }

  #onSocketError(error: Error & { code?: string }): void {
    if (this.config.settings.logSocketErrors && error.code !== 'ECONNRESET' && error.code !== 'EPIPE') {
      this.config.logger.warn(`waitstate: connection ${this.id}: socket error:`, error.message);
    }
    // 'close' follows and is reported as socket.closed.
  }

  #send(event: ChannelEvent): void {
    if (this.#released) return;
    try {
      this.#machine.send(event);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** A defect in our own code: log it and drop the connection, never the process. */
  #fail(error: unknown): void {
    if (this.#released) return;
    this.config.logger.error(`waitstate: connection ${this.id}: internal error, closing:`, error);
    this.#released = true;
    this.socket.destroy();
    this.#task?.abandon();
    this.config.onClosed(this);
  }

  // ---- channel machine actions ---------------------------------------------------------------

  parseInput(): void {
    const parser = this.#parser;
    const input = this.#input;
    for (;;) {
      const phase = parser.state;
      if (input.pending === 0 || (phase !== 'head' && phase !== 'body-fixed' && phase !== 'body-chunked')) break;
      const bytes = input.bytes;
      const start = input.start;
      if (phase === 'head') {
        const result = parseHead(bytes, start, this.config.limits, start + this.#headScanned);
        if (result.kind === 'need-more') {
          this.#headScanned = input.pending;
          if (this.#headSince === 0) this.#headSince = this.lastActivity;
          break;
        }
        this.#headScanned = 0;
        this.#headSince = 0;
        if (result.kind === 'error') {
          parser.send({ type: 'head.failed', error: result.error });
          break;
        }
        input.consume(result.consumed);
        if (!this.#accept(result.head)) break;
        parser.send({ type: 'head.parsed', head: this.#head! });
      } else if (phase === 'body-fixed') {
        const take = Math.min(input.pending, this.#bodyRemaining);
        this.#body!.parts.push(bytes.subarray(start, start + take));
        this.#body!.settle();
        input.consume(take);
        this.#bodyRemaining -= take;
        this.#bodyBytes += take;
        if (this.#bodyRemaining > 0) {
          this.#throttleSpool();
          break;
        }
        this.#bodySince = 0;
        parser.send({ type: 'body.complete' });
      } else {
        const result = this.#decoder!.decode(bytes, start, bytes.length, this.#body!.parts);
        if (result.kind === 'error') {
          this.#bodySince = 0;
          parser.send({ type: 'body.failed', error: result.error });
          break;
        }
        this.#body!.settle();
        input.consume(result.consumed);
        this.#bodyBytes += result.consumed;
        if (result.kind === 'need-more') {
          this.#throttleSpool();
          break;
        }
        this.#bodySince = 0;
        parser.send({ type: 'body.complete' });
      }
    }
  }

  /** Settle the head, URL and info the app will see; false when the head is refused instead. */
  #accept(parsed: RequestHead): boolean {
    const { settings, proxy } = this.config;
    let head = parsed;
    let info = this.#connectionInfo;
    let forwarded: ForwardedClient | undefined;
    if (proxy !== undefined) {
      const result = readProxyHeaders(head.headers, this.#proxyTrust, proxy.clearUntrusted, settings.urlScheme);
      if (result.kind === 'malformed') {
        this.config.logger.warn(
          `waitstate: connection ${this.id}: malformed proxy header "${result.field}" from ${info.remoteAddress}: ${result.detail}; value: ${result.value}`,
        );
        this.#parser.send({ type: 'head.failed', error: result.error });
        return false;
      }
      if (result.kind === 'applied') {
        for (const name of result.unknownParameters) this.config.logger.warn(`waitstate: unknown Forwarded parameter: ${name}`);
        if (proxy.logUntrusted && result.removed.length > 0) {
          this.config.logger.warn(
            `waitstate: removed untrusted proxy headers (${result.removed.join(', ')}) from ${info.remoteAddress}; remove them upstream`,
          );
        }
        forwarded = result.client;
        if (result.headers !== head.headers) head = { ...head, headers: result.headers, host: forwarded?.authority ?? head.host };
        if (forwarded !== undefined) info = forwardedInfo(info, forwarded);
      }
    }
    const url = requestUrl(head, info.urlScheme, this.#authority, settings.urlPrefix, forwarded);
    if (url === undefined) {
      // RFC 9112 §3.2: a target (`http://[::1/`) or a Host (`256.1.1.1`, `a:99999`) no URL can be
      // made of is malformed. An origin- or asterisk-form target always parses: then the Host failed.
      const fromTarget = head.targetForm === 'absolute' || head.targetForm === 'authority';
      this.#parser.send({ type: 'head.failed', error: fromTarget ? ERR.targetNotUrl : ERR.hostNotUrl });
      return false;
    }
    this.#head = head;
    this.#url = url;
    this.#info = info;
    return true;
  }

  resumeReading(): void {
    this.#task = undefined;
    this.#request = undefined;
    if (this.#parser.state === 'complete') this.#parser.send({ type: 'parser.reset' });
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    if (this.#serverClosing) this.#machine.send({ type: 'server.closing', idle: this.#input.pending === 0 });
    this.parseInput();
    // Remembered until now: requests pipelined before the FIN are answered (the one just parsed
    // is told the client left); without a whole one, the connection closes.
    if (this.#peerEnded) this.#machine.send({ type: 'socket.ended' });
  }

  writeContinue(): void {
    this.#write(CONTINUE);
  }

  writeErrorResponse(error: HttpError): void {
    this.config.logger.info(`waitstate: connection ${this.id}: ${error.status} ${error.code}: ${error.reason}`);
    this.writeBytes(errorResponse(error, '1.1', httpDate(Date.now()), this.config.ident));
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

  startTask(): void {
    const request = this.#request!;
    this.#task = new Task(this, request);
    this.#task.start();
  }

  signalClientLeft(): void {
    this.#task?.clientLeft();
  }

  abortTask(): void {
    this.#task?.abandon();
  }

  closeWhenFlushed(): void {
    this.#discardInput = true;
    this.#headSince = 0;
    this.#bodySince = 0;
    this.#input.clear();
    this.#flush();
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    if (this.#spill !== undefined) this.#endAfterSpill = true;
    else this.#endAndLinger();
  }

  /**
   * Half-close and keep reading (and discarding) until the client closes too, so unread request
   * bytes do not turn our FIN into a reset that destroys the response (RFC 9112 §9.6).
   */
  #endAndLinger(): void {
    this.socket.end();
    this.#lingerTimer = setTimeout(() => this.socket.destroy(), LINGER_MS);
    this.#lingerTimer.unref();
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#spill?.discard();
    this.#spill = undefined;
    this.#spillWaiting?.();
    this.#body?.discard();
    this.#spooling?.discard();
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    this.#task?.abandon();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resume of waiters) resume();
    this.socket.destroy();
    this.config.onClosed(this);
  }

  // ---- parser machine actions ----------------------------------------------------------------

  beginBody(head: RequestHead): void {
    this.#body = new BodyBuffer(this.config.settings.inbufOverflow);
    this.#bodySince = this.lastActivity;
    this.#bodyBytes = 0;
    if (head.framing.kind === 'length') {
      this.#bodyRemaining = head.framing.length;
    } else {
      this.#decoder = new ChunkedDecoder(this.config.limits.maxBodyBytes, MAX_TRAILER_BYTES);
    }
    if (head.expectsContinue) {
      this.#machine.send({ type: 'request.head', expectsContinue: true, bodyStarted: this.#input.pending > 0 });
    }
  }

  deliverRequest(): void {
    const head = this.#head!;
    const buffer = this.#body;
    this.#body = undefined;
    this.#decoder = undefined;
    const body = buffer === undefined ? null : buffer.finish();
    if (!(body instanceof Promise)) {
      this.#request = { head, url: this.#url, info: this.#info, body: body ?? (head.framing.kind === 'none' ? null : EMPTY) };
      this.#machine.send({ type: 'request.complete' });
      return;
    }
    // A spooled body: the request is complete once its last write is on disk.
    this.#spooling = buffer;
    body.then(
      (spooled) => {
        this.#spooling = undefined;
        if (this.#released) {
          removeSpooled(spooled);
          return;
        }
        this.#request = { head, url: this.#url, info: this.#info, body: spooled };
        this.#send({ type: 'request.complete' });
      },
      (error: unknown) => {
        this.#spooling = undefined;
        buffer?.discard();
        this.#fail(new Error('the request body could not be written to a temp file', { cause: error }));
      },
    );
  }

  /** Stop reading while a spooled body's writes lag behind the socket. */
  #throttleSpool(): void {
    const body = this.#body;
    if (body === undefined || !body.backlogged || this.#paused) return;
    this.#paused = true;
    this.socket.pause();
    body.whenDrained(() => {
      if (!this.#paused || this.#released) return;
      this.#paused = false;
      // The body's rate is measured again from here: the pause was ours, not the client's.
      if (this.#bodySince !== 0) {
        this.#bodySince = Date.now();
        this.#bodyBytes = 0;
      }
      this.socket.resume();
    });
  }

  rejectRequest(error: HttpError): void {
    this.#machine.send({ type: 'request.invalid', error });
  }

  // ---- output, for tasks ---------------------------------------------------------------------

  /** Queue a latin1 string (a head, or a body known to be ASCII). */
  writeLatin1(text: string): void {
    this.#write(text);
  }

  writeBytes(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    if (this.#out !== '') {
      this.#outParts.push(this.#out);
      this.#out = '';
    }
    this.#outParts.push(bytes);
    this.#outBytes += bytes.byteLength;
    this.#queueFlush();
  }

  /** Write what is queued now (streamed bodies) rather than at the end of the turn. */
  flushNow(): void {
    this.#flush();
  }

  /** True when the socket's buffer is over its high-water mark. */
  get backedUp(): boolean {
    return this.socket.writableNeedDrain || this.#spill !== undefined;
  }

  /** Response bytes written and not yet sent (in memory or spilled). */
  get bufferedBytes(): number {
    return this.socket.writableLength + this.#outBytes + (this.#spill?.pending ?? 0);
  }

  /** Resolve once the socket has drained, spilled output included (or the connection is gone). */
  drained(): Promise<void> {
    if (!this.backedUp || this.#released) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * Whether a response may leave the connection open: no shutdown, and no FIN from the client
   * unless it pipelined more before it (those are answered too).
   */
  get mayPersist(): boolean {
    return !this.#serverClosing && (!this.#peerEnded || this.#input.pending > 0);
  }

  /** The server is stopping: close now if idle, else after the response in progress. */
  shutdown(): void {
    this.#serverClosing = true;
    this.#send({ type: 'server.closing', idle: this.#input.pending === 0 });
  }

  #write(text: string): void {
    this.#out += text;
    this.#outBytes += text.length;
    this.#queueFlush();
  }

  #queueFlush(): void {
    if (this.#outBytes >= OUTPUT_FLUSH_BYTES) {
      this.#flush();
      return;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const socket = this.socket;
    if (this.#outBytes === 0 || socket.destroyed) {
      this.#out = '';
      this.#outParts = [];
      this.#outBytes = 0;
      return;
    }
    this.lastActivity = Date.now();
    const parts = this.#outParts;
    const spilling = this.#spill !== undefined || socket.writableLength > this.config.settings.outbufOverflow;
    if (parts.length === 0 && !spilling) {
      // The common case: one latin1 string (heads, ASCII bodies, a pipelined burst) in one write.
      socket.write(this.#out, 'latin1');
      this.#out = '';
      this.#outBytes = 0;
      return;
    }
    if (this.#out !== '') parts.push(this.#out);
    if (this.#spill === undefined && spilling) {
      // The client is slow and this much already waits in memory: what follows waits on disk.
      this.#spill = new OutputSpill();
      void this.#pumpSpill(this.#spill);
    }
    const spill = this.#spill;
    if (spill !== undefined) {
      for (const part of parts) spill.append(part);
    } else if (parts.length === 1) {
      const part = parts[0]!;
      if (typeof part === 'string') socket.write(part, 'latin1');
      else socket.write(part);
    } else {
      socket.cork();
      for (const part of parts) {
        if (typeof part === 'string') socket.write(part, 'latin1');
        else socket.write(part);
      }
      socket.uncork();
    }
    this.#outParts = [];
    this.#out = '';
    this.#outBytes = 0;
  }

  /** Send spilled output as the socket takes it; when none is left, write directly again. */
  async #pumpSpill(spill: OutputSpill): Promise<void> {
    const socket = this.socket;
    try {
      for (;;) {
        if (socket.writableNeedDrain) await new Promise<void>((resume) => (this.#spillWaiting = resume));
        if (this.#released) return;
        const chunk = await spill.next();
        if (this.#released) return;
        if (chunk === null) break;
        socket.write(chunk);
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#spill = undefined;
    spill.discard();
    if (this.#endAfterSpill) {
      this.#endAndLinger();
      return;
    }
    this.#onDrain();
  }
}

/** The connection's info with what a trusted proxy said about the client. */
function forwardedInfo(base: ConnectionInfo, client: ForwardedClient): ConnectionInfo {
  return Object.freeze({
    // The peer's port belongs to the proxy: with the client's address, it is the client's port or 0 (unknown).
    remoteAddress: client.address ?? base.remoteAddress,
    remotePort: client.address === undefined ? base.remotePort : (client.port ?? 0),
    urlScheme: client.scheme ?? base.urlScheme,
    scriptName: base.scriptName,
    serverName: client.serverName ?? base.serverName,
    serverPort: client.serverPort ?? base.serverPort,
  });
}
