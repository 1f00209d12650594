// src/connection/task.ts: one request in the app and its response on the way out, carrying out what the
// task machine (machines/task.ts) decides.
//
// The app runs inline (it gets an IncomingRequest, src/fetch/request.ts, and the connection's `info`)
// or in a worker thread (src/workers/pool.ts). What it answers is taken apart by readResponse()
// and checked once (`#checkResponse`): fields that can go on the wire, or a problem the machine turns
// into a 500. The head and a known-length body leave together; a streamed body is copied chunk
// by chunk and a file response read from disk, each waiting once outbuf_high_watermark (streams)
// or outbuf_overflow (files) waits to be sent.
//
// A task knows its connection only as a TaskHost (config, what the connection knows about its
// persistence, where its outcome goes) and writes to the connection's OutputBuffer
// (src/connection/output-buffer.ts). Whether the connection persists is persists()
// (machines/channel.ts, RFC 9112 §9.3): the task asks it for the head it writes, and reports the
// same facts in `task.done` for the channel machine to ask it again.

import { open, type FileHandle } from 'node:fs/promises';
import { removeSpooled, type RequestBody } from '../fetch/body-buffer.js';
import { taskMachine, type TaskContext, type TaskEvent } from '../../machines/task.js';
import { combinedLine } from '../observe/access-log.js';
import { httpDate } from '../http/date.js';
import { fieldValue } from '../http/head.js';
import {
  acceptAppFields,
  CHUNK_CRLF,
  chunkHeader,
  errorResponse,
  LAST_CHUNK,
  planResponseFraming,
  serializeResponseHead,
} from '../http/response.js';
import type { RequestHead, ResponseFraming } from '../http/types.js';
import { handshakeRefusalOf, switchingProtocolsLines, type HandshakeRefusal } from '../http/websocket.js';
import { persists, type ChannelEvent, type ConnectionFacts, type ExchangeFacts } from '../../machines/channel.js';
import type { LogOutput, Logger, Settings } from '../config/options.js';
import type { OutputBuffer } from './output-buffer.js';
import type { ReceivedRequest } from './request-reader.js';
import { IncomingRequest } from '../fetch/request.js';
import { cancelResponse, readResponse, type ResponseParts } from '../fetch/read-response.js';
import { RealResponse, upgradeOf } from '../fetch/response.js';
import { RunnableMachine, type InspectionObserver, type RunningMachine } from '../runtime/machine.js';
import type { Job, JobListener, WorkerPool } from '../workers/pool.js';
import type { ConnectionInfo, FetchHandler } from '../app.js';
import { APP_PROBLEM, AppResponseError, codeOf, ServerClosingError } from '../errors.js';
import { shownRef } from '../app-ref.js';
import { localTakeover, type Takeover } from '../websocket/hub.js';
import type { PendingWebSocket, UpgradeConnection } from '../websocket/upgrade.js';

/** Reads of a file response, and the writes that follow them. */
const FILE_CHUNK_BYTES = 256 * 1024;
const GENERIC_500 = 'The server encountered an unexpected internal server error';
const UNAVAILABLE = 'The application did not answer in time';
const STOPPING = 'The server is stopping';
/**
 * The (field, route) pairs whose drop is logged, at most: a route is the request's method and
 * path, which clients choose, so neither the set nor the log may grow with them (each path is
 * cut to ROUTE_PATH_CHARS).
 */
const MAX_LOGGED_DROPS = 2048;
const ROUTE_PATH_CHARS = 256;

const runnableTask = new RunnableMachine<TaskContext, TaskEvent>(
  taskMachine.provide({
    actions: {
      callApp: ({ context }) => context.shell.callApp(),
      writeHead: ({ context }) => context.shell.writeHead(),
      pumpBody: ({ context }) => context.shell.pumpBody(),
      writeServerError: ({ context, event }) => context.shell.writeServerError(event.type === 'app.threw' ? event.error : undefined),
      logAppError: ({ context, event }) => {
        if (event.type === 'app.threw') context.shell.logAppError(event.error, 'before-head');
        else if (event.type === 'app.responded') context.shell.logAppError(event.problem, 'before-head');
        else if (event.type === 'body.failed') context.shell.logAppError(event.error, 'after-head');
      },
      cancelBody: ({ context }) => context.shell.cancelBody(),
      signalClientLeft: ({ context }) => context.shell.signalClientLeft(),
      cancelApp: ({ context, event }) => context.shell.cancelApp(event.type === 'deadline.check'),
      logHandlerTimeout: ({ context }) => context.shell.logHandlerTimeout(),
      writeUnavailable: ({ context, event }) => context.shell.writeUnavailable(event.type === 'app.notRun' ? 'stopping' : 'late'),
      logNotRun: ({ context }) => context.shell.logNotRun(),
      refuseHandshake: ({ context, event }) => {
        if (event.type === 'app.refused') context.shell.refuseHandshake(event.refusal);
      },
      reportDone: ({ context }) => context.shell.reportDone(),
      reportFailed: ({ context }) => context.shell.reportFailed(),
      reportUpgraded: ({ context }) => context.shell.reportUpgraded(),
    },
  }),
);

/** What a task reads of its server's configuration (a ChannelConfig is one). */
export interface TaskConfig {
  readonly app: FetchHandler;
  /** Worker threads running the app, when `threads` > 0; else the app runs inline. */
  readonly pool: WorkerPool | undefined;
  readonly settings: Settings;
  readonly logger: Logger;
  readonly ident: string | undefined;
  /** Where the machines' inspection events go (the `inspect` option; the xstate runtime). */
  readonly inspect: InspectionObserver | undefined;
  /** Where access log lines go; undefined when there is no access log. */
  readonly accessLog: LogOutput | undefined;
  /** handler_timeout in ms; 0: none. */
  readonly handlerTimeoutMs: number;
  /** The (field name, route) pairs whose drop from an app's response was logged (bounded here, MAX_LOGGED_DROPS). */
  readonly droppedFieldsLogged: Set<string>;
  /**
   * The app as the log names it (`MODULE:OBJECT` as given, or undefined for an app passed as a
   * value), and whether the log has said yet that it looks like a factory: once a server.
   */
  readonly factoryHint: { readonly appRef: string | undefined; said: boolean };
}

/** How a task ends, as the channel machine hears it. */
export type TaskOutcome = Extract<ChannelEvent, { type: 'task.done' | 'task.failed' | 'task.upgraded' }>;

/** What the channel hands over once the app answered with upgradeWebSocket()'s 101. */
export interface HandOver {
  readonly takeover: Takeover;
  readonly head: RequestHead;
  /** The lines the 101 carries besides the handshake's own (src/http/websocket.ts). */
  readonly lines: readonly string[];
}

/** What a task needs of the connection it answers on (its response goes to an OutputBuffer). */
export interface TaskHost {
  /** The connection's id (for traces). */
  readonly id: number;
  readonly config: TaskConfig;
  /** What the connection knows that bears on persistence: a FIN from the client, a shutdown. */
  readonly connectionFacts: ConnectionFacts;
  /** Bytes received after this request and not yet parsed: requests pipelined behind it. */
  readonly pendingInput: number;
  send(event: TaskOutcome): void;
  /** Drop the connection at once: a defect of ours in the task. */
  destroy(): void;
}

export class Task implements JobListener, ExchangeFacts, UpgradeConnection {
  readonly #host: TaskHost;
  readonly #output: OutputBuffer;
  readonly #head: RequestHead;
  readonly #body: RequestBody;
  readonly #url: string;
  readonly #info: ConnectionInfo;
  readonly #machine: RunningMachine<TaskEvent>;
  // The checked response, filled in by #checkResponse.
  #status = 200;
  #statusText = '';
  #headers: string[] = [];
  #declaredLength: number | undefined;
  #known: string | Uint8Array | null = null;
  #stream: ReadableStream<Uint8Array> | undefined;
  #framing: ResponseFraming = { kind: 'none' };
  #short = false;
  /** Set once the app's answer is no longer wanted: the client is gone, or handler_timeout passed. */
  #abandoned = false;
  /** When the app was given the request, for handler_timeout (0 when there is none). */
  readonly #startedAt: number;
  /** The response head is written: what follows is its body. */
  #headWritten = false;
  /** The reader of a streamed body being copied, so that it can be cancelled mid-read. */
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The Request given to an inline app, so its signal can abort when the client goes. */
  #request: IncomingRequest | undefined;
  /** The job on a worker thread, when the app runs in one. */
  #job: Job | undefined;
  /** A file response (fileResponse): its open handle and the bytes of it to send. */
  #file: FileHandle | undefined;
  #fileLength = 0;
  /** For the access log: when the request was complete, what status went out, body bytes sent. */
  readonly #receivedAt: number;
  #statusSent = 0;
  #bodyBytes = 0;
  /** The socket upgradeWebSocket() gave the app for this request, until the connection is handed over. */
  #takeover: { readonly mark: object; readonly takeover: Takeover } | undefined;
  /** Once the app answered with the 101: what the channel hands over. */
  #handOver: HandOver | undefined;
  /** The app returned or threw: upgradeWebSocket() comes too late. */
  #answered = false;

  constructor(host: TaskHost, output: OutputBuffer, request: ReceivedRequest) {
    this.#host = host;
    this.#output = output;
    this.#head = request.head;
    this.#body = request.body;
    this.#url = request.url;
    this.#info = request.info;
    const { config } = host;
    this.#receivedAt = config.accessLog === undefined ? 0 : Date.now();
    const { handlerTimeoutMs } = config;
    this.#startedAt = handlerTimeoutMs > 0 ? Date.now() : 0;
    this.#machine = runnableTask.start(
      config.settings.machineRuntime,
      { shell: this, handlerTimeoutMs },
      (error) => {
        config.logger.error('waitstate: task machine failed:', error);
        host.destroy();
      },
      config.inspect,
    );
  }

  /** The connection this task answers on (for traces). */
  get connectionId(): number {
    return this.#host.id;
  }

  /** The status of the response head written (for traces; 0 until one is). */
  get statusSent(): number {
    return this.#statusSent;
  }

  // ---- what this exchange says about persistence (ExchangeFacts, for persists()) ---------------

  get keepAlive(): boolean {
    return this.#head.keepAlive;
  }

  /** Known once the head is planned. */
  get closeDelimited(): boolean {
    return this.#framing.kind === 'close';
  }

  get pipelined(): boolean {
    return this.#host.pendingInput > 0;
  }

  start(): void {
    this.#send({ type: 'task.start' });
  }

  /** Every event goes through here: most arrive from promise callbacks, where a defect of ours
   * would otherwise become an unhandled rejection and take the process down. */
  #send(event: TaskEvent): void {
    try {
      this.#machine.send(event);
    } catch (error) {
      this.#host.config.logger.error('waitstate: internal error in a task, closing its connection:', error);
      this.#host.destroy();
    }
  }

  /** The connection is gone: nobody will read the answer. */
  abandon(): void {
    if (this.#abandoned) return;
    removeSpooled(this.#body);
    this.#send({ type: 'client.gone' });
    this.#abandoned = true;
  }

  /** The client half-closed (FIN): it may still read the answer. */
  clientLeft(): void {
    this.#send({ type: 'client.left' });
  }

  /** The deadline sweep: how long the app has had the request. */
  checkDeadline(now: number): void {
    if (this.#startedAt !== 0) this.#send({ type: 'deadline.check', elapsedMs: now - this.#startedAt });
  }

  // ---- task machine actions ------------------------------------------------------------------

  callApp(): void {
    const config = this.#host.config;
    const pool = config.pool;
    if (pool !== undefined) {
      this.#job = pool.submit({ head: this.#head, url: this.#url, body: this.#body, info: this.#info }, this);
      return;
    }
    const incoming = new IncomingRequest(this.#head, this.#url, this.#body, this);
    this.#request = incoming;
    const request = incoming as unknown as Request;
    let result: unknown;
    try {
      result = config.app(request, this.#info);
    } catch (error) {
      this.#threw(error);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(
        (response) => this.#responded(response),
        (error: unknown) => this.#threw(error),
      );
    } else {
      this.#responded(result);
    }
  }

  writeHead(): void {
    this.#headWritten = true;
    const head = this.#head;
    const isHead = head.method === 'HEAD';
    const known = this.#known;
    const bodyLength =
      this.#file !== undefined
        ? this.#fileLength
        : this.#stream !== undefined
          ? 'stream'
          : known === null
            ? null
            : typeof known === 'string'
              ? known.length
              : known.byteLength;
    const framing = planResponseFraming({
      version: head.version,
      isHead,
      status: this.#status,
      declaredLength: this.#declaredLength,
      bodyLength,
    });
    this.#framing = framing;
    const connection = !persists(this, this.#host.connectionFacts) ? 'close' : head.version === '1.0' ? 'keep-alive' : undefined;
    const { ident } = this.#host.config;
    this.#statusSent = this.#status;
    const text = serializeResponseHead(
      '1.1',
      this.#status,
      this.#statusText,
      this.#headers,
      framing,
      connection,
      httpDate(Date.now()),
      ident,
    );
    if (this.#file !== undefined || this.#stream !== undefined || isHead || framing.kind === 'none' || known === null) {
      this.#output.writeLatin1(text);
      return;
    }
    let body = known;
    const length = typeof body === 'string' ? body.length : body.byteLength;
    if (framing.kind === 'length' && length !== framing.length) {
      if (length > framing.length) {
        this.#host.config.logger.warn(
          `waitstate: ${head.method} ${head.target}: the app sent ${length} body bytes for Content-Length ${framing.length}; the rest was cut`,
        );
        body = typeof body === 'string' ? body.slice(0, framing.length) : body.subarray(0, framing.length);
      } else {
        this.#short = true;
      }
    }
    this.#bodyBytes = length;
    if (typeof body === 'string') this.#output.writeLatin1(text + body);
    else {
      this.#output.writeLatin1(text);
      this.#output.writeBytes(body);
    }
  }

  pumpBody(): void {
    const stream = this.#stream;
    const isHead = this.#head.method === 'HEAD';
    if (this.#file !== undefined) {
      if (isHead || this.#framing.kind === 'none' || this.#fileLength === 0) {
        this.cancelBody();
        this.#send({ type: 'body.finished', short: false });
      } else {
        void this.#pumpFile(this.#file, this.#fileLength);
      }
      return;
    }
    if (stream === undefined) {
      const framing = this.#framing;
      const nothingSent = this.#known === null && framing.kind === 'length' && framing.length > 0 && !isHead;
      this.#send({ type: 'body.finished', short: this.#short || nothingSent });
      return;
    }
    if (isHead || this.#framing.kind === 'none') {
      this.cancelBody();
      this.#send({ type: 'body.finished', short: false });
      return;
    }
    void this.#pump(stream);
  }

  /** RFC 9110 §9.3.2: the server's own answer to a HEAD is its head alone. */
  get #toHead(): boolean {
    return this.#head.method === 'HEAD';
  }

  writeServerError(error: unknown): void {
    const { settings, ident } = this.#host.config;
    let detail = GENERIC_500;
    if (settings.exposeTracebacks && error !== undefined) {
      detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    }
    this.#output.writeBytes(errorResponse({ status: 500, reason: detail }, '1.1', httpDate(Date.now()), ident, this.#toHead));
    this.#statusSent = 500;
  }

  logAppError(error: unknown, phase: 'before-head' | 'after-head'): void {
    const { logger } = this.#host.config;
    const request = `waitstate: ${this.#head.method} ${this.#head.target}`;
    const where = phase === 'before-head' ? 'before the response head (answered 500)' : 'after the response head (connection closed)';
    const code = codeOf(error);
    const hint = this.#host.config.factoryHint;
    if (code === APP_PROBLEM.factory.code && !hint.said && error instanceof Error) {
      hint.said = true;
      logger.error(`${request}: app error ${where}: ${code}: ${error.message}; ${factoryAdvice(hint.appRef)}`);
      return;
    }
    logger.error(`${request}: app error ${where}:${code === undefined ? '' : ` ${code}:`}`, error);
  }

  cancelBody(): void {
    const file = this.#file;
    this.#file = undefined;
    if (file !== undefined) void file.close().catch(() => {});
    const stream = this.#stream;
    if (stream === undefined) return;
    this.#stream = undefined;
    if (!stream.locked) stream.cancel().catch(() => {});
    // Being copied: cancelling its reader ends the pending read, and so the copy.
    else this.#reader?.cancel().catch(() => {});
  }

  signalClientLeft(): void {
    if (this.#job !== undefined) this.#host.config.pool?.abort(this.#job);
    else this.#request?.clientGone();
  }

  cancelApp(timedOut: boolean): void {
    this.#abandoned = true;
    this.#request?.clientGone();
    if (this.#job !== undefined) this.#host.config.pool?.cancel(this.#job, timedOut);
  }

  logHandlerTimeout(): void {
    const { logger, settings } = this.#host.config;
    const outcome = this.#headWritten ? 'its response was cut and the connection closed' : 'answered 503';
    logger.error(
      `waitstate: ${this.#head.method} ${this.#head.target}: not finished within handler_timeout (${settings.handlerTimeout} s); ${outcome}`,
    );
  }

  writeUnavailable(cause: 'late' | 'stopping'): void {
    const { ident } = this.#host.config;
    const reason = cause === 'late' ? UNAVAILABLE : STOPPING;
    this.#output.writeBytes(errorResponse({ status: 503, reason }, '1.1', httpDate(Date.now()), ident, this.#toHead));
    this.#statusSent = 503;
  }

  refuseHandshake(refusal: HandshakeRefusal): void {
    const { logger, ident } = this.#host.config;
    logger.info(`waitstate: ${this.#head.method} ${this.#head.target}: ${refusal.status} ${refusal.code}: ${refusal.reason}`);
    this.#output.writeBytes(errorResponse(refusal, '1.1', httpDate(Date.now()), ident, this.#toHead));
    this.#statusSent = refusal.status;
  }

  reportDone(): void {
    this.#takeover?.takeover.abandon();
    removeSpooled(this.#body);
    this.#logAccess();
    // The channel machine asks persists() again: a FIN or a shutdown may have come since the head.
    this.#host.send({
      type: 'task.done',
      keepAlive: this.keepAlive,
      closeDelimited: this.closeDelimited,
      pipelined: this.pipelined,
      backlog: this.#output.backedUp,
    });
  }

  reportFailed(): void {
    this.#takeover?.takeover.abandon();
    removeSpooled(this.#body);
    this.#logAccess();
    this.#host.send({ type: 'task.failed' });
  }

  reportUpgraded(): void {
    removeSpooled(this.#body);
    this.#statusSent = 101;
    this.#logAccess();
    this.#host.send({ type: 'task.upgraded' });
  }

  /** The request as read, for upgradeWebSocket(). */
  get requestHead(): RequestHead {
    return this.#head;
  }

  /** What the channel hands over, once the task is `upgraded`. */
  get handOver(): HandOver | undefined {
    return this.#handOver;
  }

  // ---- from upgradeWebSocket() (UpgradeConnection) -------------------------------------------

  takeOver(pending: PendingWebSocket): void {
    if (this.#takeover !== undefined || this.#handOver !== undefined)
      throw new TypeError('upgradeWebSocket(): the request was upgraded already');
    if (this.#answered) throw new TypeError('upgradeWebSocket(): the request was answered already');
    if (this.#abandoned) throw new TypeError('upgradeWebSocket(): the client is gone');
    this.#takeover = { mark: pending, takeover: localTakeover(pending) };
  }

  reportListenerError(error: unknown): void {
    this.#host.config.logger.error(`waitstate: WebSocket ${this.#head.target}: a listener threw:`, error);
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** One Combined Log Format line, when the access log is on and a response (head) went out. */
  #logAccess(): void {
    const output = this.#host.config.accessLog;
    if (output === undefined || this.#statusSent === 0) return;
    const head = this.#head;
    output.write(
      combinedLine({
        remoteAddress: this.#info.remoteAddress,
        time: this.#receivedAt,
        method: head.method,
        target: head.target,
        version: head.version,
        status: this.#statusSent,
        bodyBytes: this.#bodyBytes,
        referer: fieldValue(head.headers, 'referer'),
        userAgent: fieldValue(head.headers, 'user-agent'),
      }),
    );
  }

  // ---- from a worker thread (JobListener) -----------------------------------------------------

  onResponse(parts: ResponseParts): void {
    if (this.#abandoned) {
      parts.stream?.cancel().catch(() => {});
      return;
    }
    this.#take(parts);
  }

  onUpgrade(headers: string[], takeover: Takeover): void {
    if (this.#abandoned) {
      takeover.abandon();
      return;
    }
    this.#answered = true;
    this.#upgrade(takeover, headers);
  }

  onFailure(error: Error, unsendable: boolean): void {
    if (this.#abandoned) return;
    if (unsendable) this.#send({ type: 'app.responded', problem: error });
    // Not the app's doing: the pool stopped before a worker thread took the request.
    else if (error instanceof ServerClosingError) this.#send({ type: 'app.notRun' });
    else this.#threw(error);
  }

  logNotRun(): void {
    const error = new ServerClosingError();
    this.#host.config.logger.warn(
      `waitstate: ${this.#head.method} ${this.#head.target}: request not run (answered 503): ${error.code}: ${error.message}`,
    );
  }

  /** The app threw: a refused WebSocket handshake is the client's fault, anything else the app's. */
  #threw(error: unknown): void {
    this.#answered = true;
    const refusal = handshakeRefusalOf(codeOf(error));
    this.#send(refusal === undefined ? { type: 'app.threw', error } : { type: 'app.refused', refusal });
  }

  /** Check what the app returned; the machine decides what a problem means. */
  #responded(value: unknown): void {
    this.#answered = true;
    if (this.#abandoned) {
      if (value instanceof RealResponse) cancelResponse(value);
      return;
    }
    const parts = readResponse(value);
    if (parts instanceof AppResponseError) this.#send({ type: 'app.responded', problem: parts });
    else if (this.#takeover !== undefined && upgradeOf(value) === this.#takeover.mark)
      this.#upgrade(this.#takeover.takeover, parts.headers);
    else this.#take(parts);
  }

  /** The app answered with its 101: check the fields it carries, then hand the connection over. */
  #upgrade(takeover: Takeover, headers: string[]): void {
    this.#takeover = undefined;
    const accepted = acceptAppFields(headers);
    if ('refused' in accepted) {
      takeover.abandon();
      this.#send({ type: 'app.responded', problem: new AppResponseError(accepted.refused, accepted.detail) });
      return;
    }
    const { ident } = this.#host.config;
    this.#handOver = { takeover, head: this.#head, lines: switchingProtocolsLines(accepted.fields, httpDate(Date.now()), ident) };
    this.#send({ type: 'app.upgraded' });
  }

  /** Report the response to the machine; a file response is opened first, for its size. */
  #take(parts: ResponseParts): void {
    if (parts.file === undefined) {
      this.#send({ type: 'app.responded', problem: this.#checkResponse(parts) });
      return;
    }
    const path = parts.file;
    void openForSending(path).then(
      ({ handle, size }) => {
        if (this.#abandoned) {
          void handle.close();
          return;
        }
        this.#file = handle;
        const problem = this.#checkResponse(parts);
        // Waitress's file_wrapper: a smaller Content-Length sends that much; a larger one is corrected.
        this.#fileLength = this.#declaredLength === undefined ? size : Math.min(this.#declaredLength, size);
        this.#declaredLength = this.#fileLength;
        this.#send({ type: 'app.responded', problem });
      },
      (error: Error) =>
        this.#send({
          type: 'app.responded',
          problem: new AppResponseError('file', `the file ${path} cannot be sent: ${error.message}`, { cause: error }),
        }),
    );
  }

  /** Take the parts of a response (from the app inline, or from a worker) if they can be sent. */
  #checkResponse(parts: ResponseParts): AppResponseError | undefined {
    this.#status = parts.status;
    this.#statusText = parts.statusText;
    this.#known = parts.body;
    this.#stream = parts.stream;
    // RFC 9110 §15: a final status is three digits, 2xx to 5xx (1xx are interim). Response.error()
    // has status 0, and an object posing as a Response may have any.
    const status = parts.status;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      return new AppResponseError(
        'statusRange',
        `the response status ${String(status)} cannot be sent: a final status is 200 to 599 (RFC 9110 §15)`,
      );
    }
    if (/[\r\n]/.test(this.#statusText)) return new AppResponseError('statusText', 'the status text contains CR or LF (RFC 9112 §4)');
    const accepted = acceptAppFields(parts.headers);
    if ('refused' in accepted) return new AppResponseError(accepted.refused, accepted.detail);
    this.#headers = accepted.fields;
    this.#declaredLength = accepted.declaredLength;
    if (accepted.dropped !== undefined) this.#logDropped(accepted.dropped);
    return undefined;
  }

  /**
   * RFC 9110 §7.6.1: connection-specific fields from the app were dropped and the server frames
   * the response itself. Nothing is wrong, but the app may want to know: once per field and
   * route (a streaming route would otherwise say it on every request).
   */
  #logDropped(names: readonly string[]): void {
    const { logger, droppedFieldsLogged: logged } = this.#host.config;
    const { method, target } = this.#head;
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    const route = `${method} ${path.length > ROUTE_PATH_CHARS ? path.slice(0, ROUTE_PATH_CHARS) + '…' : path}`;
    for (const name of names) {
      const key = name + ' ' + route;
      if (logged.has(key) || logged.size >= MAX_LOGGED_DROPS) continue;
      logged.add(key);
      const last = logged.size === MAX_LOGGED_DROPS ? ` (${MAX_LOGGED_DROPS} field and route pairs logged: no more will be)` : '';
      logger.info(
        `waitstate: ${route}: dropped the app's "${name}" field: it is connection-specific and the server frames the response itself (RFC 9110 §7.6.1)${last}`,
      );
    }
  }

  /** Copy `length` bytes of a file to the socket in FILE_CHUNK_BYTES reads, with backpressure. */
  async #pumpFile(handle: FileHandle, length: number): Promise<void> {
    const output = this.#output;
    const { outbufOverflow } = this.#host.config.settings;
    const read = async (at: number): Promise<Uint8Array> => {
      const buffer = Buffer.allocUnsafe(Math.min(FILE_CHUNK_BYTES, length - at));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      return bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    };
    let position = 0;
    // One read is always in flight while the previous chunk goes out, so the disk and the socket
    // overlap instead of taking turns.
    let ahead: Promise<Uint8Array> | undefined = read(0);
    try {
      while (ahead !== undefined && !this.#abandoned) {
        const chunk = await ahead;
        if (chunk.byteLength === 0) break; // the file shrank: the body will be short, and the connection closes
        position += chunk.byteLength;
        ahead = position < length ? read(position) : undefined;
        // The bytes are on disk already: buffer only as much as memory holds (outbuf_overflow),
        // so they never go through a spill file.
        if (output.bufferedBytes + chunk.byteLength > outbufOverflow) await output.drained();
        if (this.#abandoned) break;
        output.writeBytes(chunk);
        this.#bodyBytes += chunk.byteLength;
        output.flush();
      }
      await ahead?.catch(() => undefined); // let a last read settle before the handle closes
    } catch (error) {
      this.cancelBody();
      if (!this.#abandoned) this.#send({ type: 'body.failed', error });
      return;
    }
    this.cancelBody();
    if (!this.#abandoned) this.#send({ type: 'body.finished', short: position < length });
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const output = this.#output;
    const { logger, settings } = this.#host.config;
    const framing = this.#framing;
    let remaining = framing.kind === 'length' ? framing.length : Infinity;
    const reader = stream.getReader();
    this.#reader = reader;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.#abandoned) {
          reader.cancel().catch(() => {});
          return;
        }
        if (done) break;
        if (!(value instanceof Uint8Array)) throw new TypeError('a response body chunk is not a Uint8Array');
        if (value.byteLength === 0) continue;
        let chunk = value;
        if (chunk.byteLength > remaining) {
          logger.warn(
            `waitstate: ${this.#head.method} ${this.#head.target}: the app sent more body bytes than its Content-Length; the rest was cut`,
          );
          chunk = chunk.subarray(0, remaining);
        }
        if (framing.kind === 'chunked') {
          output.writeLatin1(chunkHeader(chunk.byteLength));
          output.writeBytes(chunk);
          output.writeLatin1(CHUNK_CRLF);
        } else {
          output.writeBytes(chunk);
        }
        remaining -= chunk.byteLength;
        this.#bodyBytes += chunk.byteLength;
        output.flush();
        if (remaining === 0) {
          reader.cancel().catch(() => {});
          break;
        }
        // Waitress's outbuf_high_watermark: the app's stream is read ahead of a slow client until
        // this much waits to be sent, so the task (and its worker) is not held by the client.
        if (output.bufferedBytes > settings.outbufHighWatermark) await output.drained();
      }
    } catch (error) {
      if (!this.#abandoned) this.#send({ type: 'body.failed', error });
      return;
    }
    if (framing.kind === 'chunked') output.writeLatin1(LAST_CHUNK);
    this.#send({ type: 'body.finished', short: remaining !== Infinity && remaining > 0 });
  }
}

/** Open a file for a file response; only regular files are sent. */
async function openForSending(path: string): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(path, 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error('not a regular file');
    return { handle, size: stat.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** What to do about an app that answered with an app: serve what the factory returns. */
function factoryAdvice(appRef: string | undefined): string {
  if (appRef === undefined) return 'the app looks like a factory: serve what it returns, serve(factory())';
  const bare = shownRef(appRef);
  return `${bare} looks like a factory: serve what it returns, with waitstate-serve --call ${bare} (or serve('${bare}()'))`;
}
