// src/connection/request-reader.ts: the requests of one connection on their way in, carrying out what
// the parser machine (machines/parser.ts) decides.
//
// Bytes are appended to an InputBuffer (src/connection/input-buffer.ts) and consumed by the
// scanner of the parser's current phase (parseHead, a fixed-length body, the ChunkedDecoder);
// what is left is the next pipelined request. A parsed head is settled into what the app sees
// (proxy headers, request.url, the connection's info); a body is buffered in memory, then spooled
// to a temp file past inbuf_overflow. For the deadline sweep it keeps how far the request on its
// way in got.
//
// It reports to its connection through RequestReaderHost (a head waiting for 100 Continue, a
// complete request as a value, a refused one, socket pauses for flow control) and decides
// nothing about the connection's life: when to read on is the channel machine's call.

import type { Socket } from 'node:net';
import { parserMachine, type ParserContext, type ParserEvent } from '../../machines/parser.js';
import type { ConnectionInfo } from '../app.js';
import type { Logger, Settings } from '../config/options.js';
import { BodyBuffer, removeSpooled, type RequestBody } from '../fetch/body-buffer.js';
import { requestUrl } from '../fetch/request.js';
import { ChunkedDecoder } from '../http/chunked.js';
import { ERR } from '../http/errors.js';
import { parseHead } from '../http/head.js';
import { readProxyHeaders, type ForwardedClient, type ProxyTrust } from '../http/proxy-headers.js';
import type { HeadLimits, HttpError, RequestHead } from '../http/types.js';
import { RunnableMachine, type InspectionObserver, type RunningMachine } from '../runtime/machine.js';
import { InputBuffer } from './input-buffer.js';

/** Bytes of unparsed input buffered while a request runs before we stop reading the socket. */
const INPUT_PAUSE_BYTES = 64 * 1024;
const MAX_TRAILER_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);

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

/** The proxy options, prepared once per server. */
export interface ProxyPolicy {
  /** An address as the peer appears, `*`, or `localhost` (a Unix socket peer); '' trusts none. */
  readonly trustedProxy: string;
  readonly trust: ProxyTrust;
  readonly clearUntrusted: boolean;
  readonly logUntrusted: boolean;
}

/** What a RequestReader reads of its server's configuration (a ChannelConfig is one). */
export interface RequestReaderConfig {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly limits: HeadLimits;
  /** What to do with proxy headers; undefined leaves them to the app untouched. */
  readonly proxy: ProxyPolicy | undefined;
  /** Where the parser machine's inspection events go (the `inspect` option; the xstate runtime). */
  readonly inspect: InspectionObserver | undefined;
}

/** What a RequestReader needs of its connection, and what it reports to it. */
export interface RequestReaderHost {
  /** The connection's id, for logs and traces. */
  readonly id: number;
  /** Date.now() at the last byte in or out: when a phase that spans reads began. */
  readonly lastActivity: number;
  /** The connection is gone: a body still being spooled is thrown away. */
  readonly released: boolean;
  /** RFC 9110 §10.1.1: a head with Expect: 100-continue is in; `bodyStarted` if some body came with it. */
  headAwaitsContinue(bodyStarted: boolean): void;
  requestComplete(request: ReceivedRequest): void;
  /** The request is refused (RFC 9112 §9.6: nothing after it is read). */
  requestInvalid(error: HttpError): void;
  /** Flow control, not protocol: stop reading the socket for a while. */
  pauseSocket(): void;
  resumeSocket(): void;
  /** A spooled body could not be written, or a defect of ours: the connection must go. */
  fail(error: unknown): void;
}

/** The addresses of a socket, as far as a request's info and URL need them. */
export type SocketAddresses = Pick<Socket, 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort'>;

export class RequestReader {
  readonly #host: RequestReaderHost;
  readonly #config: RequestReaderConfig;
  readonly #parser: RunningMachine<ParserEvent>;
  readonly #input = new InputBuffer();
  /** What the app learns about this connection; shared by its requests unless a proxy says otherwise. */
  readonly #connectionInfo: ConnectionInfo;
  /** What a peer that is a trusted proxy may tell us; undefined for any other peer. */
  readonly #proxyTrust: ProxyTrust | undefined;
  /** Our own address as an authority, for request.url when a request has no Host. */
  readonly #authority: string;
  // The request being read, as the app will see it (settled by #settleHead).
  #head: RequestHead | undefined;
  // The method of the request last parsed or refused was HEAD (see forHead).
  #headMethod = false;
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
  // For the deadline sweep (Date.now() values, 0: not under way). Set only where a phase spans
  // reads, so a request that arrives in one read costs nothing here.
  #headSince = 0;
  #bodySince = 0;
  #bodyBytes = 0;
  #paused = false;
  #discarding = false;

  constructor(host: RequestReaderHost, config: RequestReaderConfig, socket: SocketAddresses) {
    this.#host = host;
    this.#config = config;
    // A Unix socket has no addresses: the peer is `localhost`, as in Waitress (and trusted_proxy).
    const localAddress = socket.localAddress;
    const localPort = socket.localPort ?? 0;
    this.#authority =
      localAddress === undefined ? 'localhost' : `${localAddress.includes(':') ? `[${localAddress}]` : localAddress}:${localPort}`;
    const { settings, proxy } = config;
    this.#connectionInfo = Object.freeze({
      remoteAddress: socket.remoteAddress ?? 'localhost',
      remotePort: socket.remotePort ?? 0,
      urlScheme: settings.urlScheme,
      scriptName: settings.urlPrefix,
      serverName: settings.serverName,
      serverPort: localPort,
    });
    this.#info = this.#connectionInfo;
    this.#proxyTrust =
      proxy !== undefined && isTrustedPeer(proxy.trustedProxy, this.#connectionInfo.remoteAddress) ? proxy.trust : undefined;
    this.#parser = runnableParser.start(settings.machineRuntime, { shell: this }, (error) => host.fail(error), config.inspect);
  }

  /** The connection this reader belongs to (for traces: the parser machine's shell is this reader). */
  get connectionId(): number {
    return this.#host.id;
  }

  /** When the first byte of a head still incomplete arrived (0: none is). */
  get headSince(): number {
    return this.#headSince;
  }

  /** When the body being read began, or resumed after the server paused reading (0: none is). */
  get bodySince(): number {
    return this.#bodySince;
  }

  /** Body bytes read since bodySince. */
  get bodyBytes(): number {
    return this.#bodyBytes;
  }

  /** The socket is paused by this reader (flow control, or a spooled body's writes lag). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Bytes received and not yet parsed: the start of the next request. */
  get pending(): number {
    return this.#input.pending;
  }

  /** Waiting for (the rest of) a head, not inside a request. */
  get atHead(): boolean {
    return this.#parser.state === 'head';
  }

  /** A whole request is in and waits only for its body's last writes to a temp file before it is handed over. */
  get spooling(): boolean {
    return this.#spooling !== undefined;
  }

  /**
   * RFC 9110 §9.3.2: the request being read, or just refused, is a HEAD, so the server's own
   * answer to it (a refusal, a 408) is the head alone. Before its head is whole, its first bytes say.
   */
  get forHead(): boolean {
    const input = this.#input;
    return this.#parser.state === 'head' ? startsWithHeadMethod(input.bytes, input.start, input.pending) : this.#headMethod;
  }

  /** Input is thrown away unread: the connection is closing. */
  get discarding(): boolean {
    return this.#discarding;
  }

  append(chunk: Buffer): void {
    this.#input.append(chunk);
  }

  /** A request runs: stop reading once this much waits, so a client pipelining faster than we answer waits in TCP. */
  pauseIfFull(): void {
    if (!this.#paused && this.#input.pending > INPUT_PAUSE_BYTES) {
      this.#paused = true;
      this.#host.pauseSocket();
    }
  }

  /** The previous request is answered: reset the parser for the next one, and read again. */
  nextRequest(): void {
    if (this.#parser.state === 'complete') this.#parser.send({ type: 'parser.reset' });
    this.#resume();
  }

  /** The connection closes: what is buffered and what still arrives is dropped unread. */
  discardInput(): void {
    this.#discarding = true;
    this.#headSince = 0;
    this.#bodySince = 0;
    this.#input.clear();
    this.#resume();
  }

  /**
   * The connection leaves HTTP (upgradeWebSocket()): what was received after the last request,
   * which belongs to the new protocol, taken out; nothing is read here again.
   */
  takePending(): Buffer {
    const input = this.#input;
    const pending = input.bytes.subarray(input.start);
    // Nothing writes into those bytes again: the buffer is let go, not reused.
    input.clear();
    this.#discarding = true;
    this.#paused = false;
    return pending;
  }

  /** The connection is released: throw away a body being read or spooled. */
  discard(): void {
    this.#body?.discard();
    this.#spooling?.discard();
  }

  /**
   * Run the scanner of the parser's phase over the buffered input, until it needs more or the
   * request is complete. True when the request is complete and handed over (requestComplete):
   * after nextRequest(), by this very call. A spooled body is handed over later, once on disk.
   */
  parse(): boolean {
    const parser = this.#parser;
    const input = this.#input;
    for (;;) {
      const phase = parser.state;
      if (input.pending === 0 || (phase !== 'head' && phase !== 'body-fixed' && phase !== 'body-chunked')) break;
      const bytes = input.bytes;
      const start = input.start;
      if (phase === 'head') {
        const result = parseHead(bytes, start, this.#config.limits, start + this.#headScanned);
        if (result.kind === 'need-more') {
          this.#headScanned = input.pending;
          if (this.#headSince === 0) this.#headSince = this.#host.lastActivity;
          break;
        }
        this.#headScanned = 0;
        this.#headSince = 0;
        if (result.kind === 'error') {
          this.#headMethod = startsWithHeadMethod(bytes, start, input.pending);
          parser.send({ type: 'head.failed', error: result.error });
          break;
        }
        this.#headMethod = result.head.method === 'HEAD';
        input.consume(result.consumed);
        if (!this.#settleHead(result.head)) break;
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
    return parser.state === 'complete' && this.#spooling === undefined;
  }

  /**
   * Settle the head, URL and info the app will see: a trusted proxy's word on the client applied,
   * untrusted proxy headers removed. False when the head is refused instead (the parser is told).
   */
  #settleHead(parsed: RequestHead): boolean {
    const { settings, proxy, logger } = this.#config;
    let head = parsed;
    let info = this.#connectionInfo;
    let forwarded: ForwardedClient | undefined;
    if (proxy !== undefined) {
      const result = readProxyHeaders(head.headers, this.#proxyTrust, proxy.clearUntrusted, settings.urlScheme);
      if (result.kind === 'malformed') {
        logger.warn(
          `waitstate: connection ${this.#host.id}: malformed proxy header "${result.field}" from ${info.remoteAddress}: ${result.detail}; value: ${result.value}`,
        );
        this.#parser.send({ type: 'head.failed', error: result.error });
        return false;
      }
      if (result.kind === 'applied') {
        for (const name of result.unknownParameters) logger.warn(`waitstate: unknown Forwarded parameter: ${name}`);
        if (proxy.logUntrusted && result.removed.length > 0) {
          logger.warn(
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

  #resume(): void {
    if (this.#paused) {
      this.#paused = false;
      this.#host.resumeSocket();
    }
  }

  /** Stop reading while a spooled body's writes lag behind the socket. */
  #throttleSpool(): void {
    const body = this.#body;
    if (body === undefined || !body.backlogged || this.#paused) return;
    this.#paused = true;
    this.#host.pauseSocket();
    body.whenDrained(() => {
      if (!this.#paused || this.#host.released) return;
      this.#paused = false;
      // The body's rate is measured again from here: the pause was ours, not the client's.
      if (this.#bodySince !== 0) {
        this.#bodySince = Date.now();
        this.#bodyBytes = 0;
      }
      this.#host.resumeSocket();
    });
  }

  // ---- parser machine actions ----------------------------------------------------------------

  beginBody(head: RequestHead): void {
    this.#body = new BodyBuffer(this.#config.settings.inbufOverflow);
    this.#bodySince = this.#host.lastActivity;
    this.#bodyBytes = 0;
    if (head.framing.kind === 'length') {
      this.#bodyRemaining = head.framing.length;
    } else {
      this.#decoder = new ChunkedDecoder(this.#config.limits.maxBodyBytes, MAX_TRAILER_BYTES);
    }
    if (head.expectsContinue) this.#host.headAwaitsContinue(this.#input.pending > 0);
  }

  deliverRequest(): void {
    const head = this.#head!;
    const buffer = this.#body;
    this.#body = undefined;
    this.#decoder = undefined;
    const body = buffer === undefined ? null : buffer.finish();
    if (!(body instanceof Promise)) {
      this.#host.requestComplete({ head, url: this.#url, info: this.#info, body: body ?? (head.framing.kind === 'none' ? null : EMPTY) });
      return;
    }
    // A spooled body: the request is complete once its last write is on disk.
    this.#spooling = buffer;
    body.then(
      (spooled) => {
        this.#spooling = undefined;
        if (this.#host.released) {
          removeSpooled(spooled);
          return;
        }
        this.#host.requestComplete({ head, url: this.#url, info: this.#info, body: spooled });
      },
      (error: unknown) => {
        this.#spooling = undefined;
        buffer?.discard();
        this.#host.fail(new Error('the request body could not be written to a temp file', { cause: error }));
      },
    );
  }

  rejectRequest(error: HttpError): void {
    this.#host.requestInvalid(error);
  }
}

const HEAD_SP = [0x48, 0x45, 0x41, 0x44, 0x20]; // "HEAD "

/** RFC 9112 §3: the request line in buf[start..start + length) begins with the method HEAD. */
function startsWithHeadMethod(buf: Uint8Array, start: number, length: number): boolean {
  if (length < HEAD_SP.length) return false;
  for (let i = 0; i < HEAD_SP.length; i++) if (buf[start + i] !== HEAD_SP[i]) return false;
  return true;
}

function isTrustedPeer(trustedProxy: string, peer: string): boolean {
  if (trustedProxy === '') return false;
  // An IPv4 client on a dual-stack socket appears as ::ffff:a.b.c.d.
  return trustedProxy === '*' || peer === trustedProxy || (peer.startsWith('::ffff:') && peer.slice(7) === trustedProxy);
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
