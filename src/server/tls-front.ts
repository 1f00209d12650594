// src/server/tls-front.ts: HTTPS: the TLS handshake of each admitted connection, before it
// becomes a channel.
//
// The listeners stay net.Servers, so TCP and Unix sockets, sockets passed in and node:cluster's
// shared handles serve HTTPS alike, and admission (connection_limit) meets every connection as it
// arrives. An admitted connection is handed here, and its first byte says what it speaks: a
// request line starts with a method's letter, a TLS record never does. A client that sent plain
// HTTP is answered 400 in plain HTTP, as nginx and Go answer it, rather than left to guess why
// the connection closed. Anything else goes to a tls.Server that never listens (node:https's
// engine, given connections by emit('connection')): it does the handshake as Node does, with SNI,
// session resumption, client certificates and the handshake timeout, and reports exactly one of
// 'secureConnection' (the TLSSocket, which becomes a channel) or 'tlsClientError' per connection.
// A handshake that fails is logged once, at info level (the client's fault), with the peer and
// OpenSSL's reason, and closes that connection only.

import type { Socket } from 'node:net';
import { createServer, type Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from '../config/options.js';
import { LINGER_MS } from '../connection/channel.js';
import { codeOf } from '../errors.js';

/**
 * RFC 9112 §3: a request line starts with its method, a token that clients write in capitals.
 * RFC 8446 §5.1: a TLS record starts with its content type, 20 to 24, never a letter.
 */
const startsRequestLine = (byte: number) => byte >= 0x41 && byte <= 0x5a;

const PLAIN_HTTP_BODY = 'This port speaks HTTPS: the request was sent as plain HTTP.\n';
/** What nginx and Go answer plain HTTP on an HTTPS port: 400 in HTTP/1.0, the connection closed after it. */
const PLAIN_HTTP_ANSWER =
  'HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\n' +
  `Content-Length: ${PLAIN_HTTP_BODY.length}\r\nConnection: close\r\n\r\n${PLAIN_HTTP_BODY}`;
const ignore = () => {};

export class TlsFront {
  readonly #engine: TlsServer;
  readonly #logger: Logger;
  /** How long a connection may take to send its first byte; the engine gives the handshake as long again. */
  readonly #timeoutMs: number;
  /** A connection held here left (or was closed): there may be room for another. */
  readonly #onGone: () => void;
  /** Connections held before any handshake: waiting for their first byte, or being told they spoke plain HTTP. */
  readonly #held = new Set<Socket>();
  /** Connections in the engine's hands whose handshake has not ended. */
  #handshaking = 0;
  #closed = false;
  /** The peer of the connection whose close is being reported right now (see #handOver). */
  #closingPeer: string | undefined;

  constructor(options: TlsOptions, logger: Logger, onSecure: (socket: TLSSocket) => void, onGone: () => void) {
    this.#engine = createServer(options);
    this.#logger = logger;
    this.#timeoutMs = options.handshakeTimeout ?? 0;
    this.#onGone = onGone;
    this.#engine.on('secureConnection', (socket: TLSSocket) => {
      this.#handshaking--;
      // Half-open from here on, as a plain connection is: a client's close_notify and FIN after its request still get the answer.
      socket.allowHalfOpen = true;
      onSecure(socket);
    });
    this.#engine.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      this.#handshaking--;
      const peer = socket.remoteAddress === undefined ? (this.#closingPeer ?? 'a client') : peerOf(socket);
      if (!this.#closed) this.#logger.info(`waitstate: TLS handshake with ${peer} failed: ${failure(error, socket)}`);
      socket.destroy();
      onGone();
    });
  }

  /** Connections accepted and not yet secure (or being told off): they count against connection_limit. */
  get pending(): number {
    return this.#held.size + this.#handshaking;
  }

  /** An admitted connection, paused as accepted: read its first byte, then shake hands or answer plain HTTP. */
  accept(socket: Socket): void {
    this.#held.add(socket);
    const onClose = () => {
      if (this.#held.delete(socket)) this.#onGone();
    };
    // Nothing sent in time, or the client's side closed first: closed quietly, as a connection
    // that never sent a byte is when shed.
    const leave = () => socket.destroy();
    socket.on('error', ignore); // a reset before the first byte; 'close' follows
    socket.once('close', onClose);
    socket.once('end', leave);
    socket.setTimeout(this.#timeoutMs, leave);
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.setTimeout(0, leave);
      socket.off('end', leave);
      if (startsRequestLine(chunk[0]!)) {
        this.#answerPlainHttp(socket);
        return;
      }
      this.#held.delete(socket);
      socket.off('close', onClose);
      socket.off('error', ignore);
      socket.unshift(chunk); // the engine reads what is buffered first
      this.#handOver(socket);
    });
    socket.resume();
  }

  #handOver(socket: Socket): void {
    // Not half-open during the handshake: a client that closes its side cannot finish it, and its
    // connection closes at once.
    socket.allowHalfOpen = false;
    // A client that leaves mid-handshake is reported ('tlsClientError') once its TLSSocket has
    // lost its address, from within the close of this socket: the address is lent for that moment.
    const peer = peerOf(socket);
    socket.once('close', () => {
      this.#closingPeer = peer;
      queueMicrotask(() => (this.#closingPeer = undefined));
    });
    this.#handshaking++;
    this.#engine.emit('connection', socket);
  }

  /** The server is closing: connections held here are closed; handshakes under way end as they end. */
  close(): void {
    this.#closed = true;
    for (const socket of this.#held) socket.destroy();
  }

  #answerPlainHttp(socket: Socket): void {
    this.#logger.info(`waitstate: ${peerOf(socket)} sent plain HTTP to the HTTPS port: answered 400`);
    // RFC 9112 §9.6: close our side only, and read (and drop) what the client still sends for as
    // long as a channel's close lingers, lest its unread bytes make the kernel reset the
    // connection before it reads the answer.
    socket.on('data', ignore);
    socket.resume();
    socket.end(PLAIN_HTTP_ANSWER, 'latin1');
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    socket.once('close', () => clearTimeout(linger));
  }
}

/** `127.0.0.1:40312`, `[::1]:40312`; a Unix socket's peer, or one gone before its address was read, has none. */
function peerOf(socket: Socket): string {
  const address = socket.remoteAddress;
  if (address === undefined) return 'a client';
  return `${address.includes(':') ? `[${address}]` : address}:${socket.remotePort}`;
}

/** Why a handshake failed, in a few words and a code: OpenSSL's reason, a timeout, a client certificate refused, or a client that left. */
function failure(error: Error, socket: TLSSocket): string {
  // With requestCert, a certificate that does not verify ends a finished handshake without an error of its own.
  if (socket.authorizationError !== null) return `its certificate was refused (${String(socket.authorizationError)})`;
  const code = codeOf(error) ?? error.name;
  // Node's clients, among others, close without an alert when they do not trust the certificate.
  if (code === 'ECONNRESET') return `the client closed the connection (${code}; a client that does not trust the certificate may)`;
  const reason = (error as { reason?: unknown }).reason;
  return `${typeof reason === 'string' ? reason : error.message.split('\n')[0]} (${code})`;
}
