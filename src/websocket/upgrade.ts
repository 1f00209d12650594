// src/websocket/upgrade.ts: upgradeWebSocket(), Deno's Deno.upgradeWebSocket() for a waitstate
// app: from the Request of a WebSocket opening handshake, a socket (CONNECTING) and the 101
// response the app returns; the server then hands the connection over and the socket opens.
//
// The handshake is read by src/http/websocket.ts and refused with a WebSocketHandshakeError
// (400, or 426 for a version this server does not speak, RFC 6455 §4.2.2). The request leads to
// its connection: an IncomingRequest is made with what answers it (an UpgradeConnection: the
// task inline, the call in a worker thread), which takes the pending socket over and, when the
// app answers with its response, hands the connection over (src/websocket/hub.ts on the main
// thread, across a port from a worker: src/websocket/port-link.ts). Runs wherever the app runs:
// it touches no socket.

import { createHash } from 'node:crypto';
import { WebSocketHandshakeError } from '../errors.js';
import { IncomingRequest } from '../fetch/request.js';
import { switchingProtocols } from '../fetch/response.js';
import type { HttpVersion } from '../http/types.js';
import { HANDSHAKE, readHandshake } from '../http/websocket.js';
import { UpgradedWebSocket, type SocketDriver } from './socket.js';

/** As Deno.UpgradeWebSocketOptions. */
export interface UpgradeWebSocketOptions {
  /**
   * The subprotocol to accept, which must be one the client offered in Sec-WebSocket-Protocol
   * (RFC 6455 §4.2.2); none by default.
   */
  readonly protocol?: string | undefined;
  /**
   * Seconds: after half of it without a frame from the client, the server pings it; without an
   * answer within the other half, the socket is closed with 1001 (and error and close events). 0
   * turns it off. Default 30, as Deno (below the 60 s a proxy such as nginx waits).
   */
  readonly idleTimeout?: number | undefined;
}

/** What upgradeWebSocket() returns, as Deno.WebSocketUpgrade. */
export interface WebSocketUpgrade {
  readonly socket: UpgradedWebSocket;
  /** The 101 (Switching Protocols) the app must answer with for the socket to open. */
  readonly response: Response;
}

/** A socket the app was given, waiting for its 101 to go out. */
export interface PendingWebSocket {
  /** The 101 the app answers with (or a copy a framework made of it, src/fetch/response.ts). */
  readonly response: Response;
  readonly driver: SocketDriver;
  /** The subprotocol accepted; '' when none. */
  readonly protocol: string;
  /** idleTimeout in ms; 0: none. */
  readonly idleTimeoutMs: number;
}

/**
 * What answers a request on its connection, as the server makes every IncomingRequest with it:
 * the task inline (src/connection/task.ts), the call in a worker thread (src/workers/worker.ts).
 */
export interface UpgradeConnection {
  /** The request as read: its method, version and fields (flat, lower-case names). */
  readonly requestHead: { readonly method: string; readonly version: HttpVersion; readonly headers: readonly string[] };
  /**
   * The app will answer with `pending.response`: when it does, the connection is handed over;
   * when it answers otherwise, or the connection goes first, the socket is abandoned. Throws a
   * TypeError when the request was upgraded already, or answered.
   */
  takeOver(pending: PendingWebSocket): void;
  /** Where what the socket's listeners throw goes. */
  reportListenerError(error: unknown): void;
}

/** RFC 6455 §1.3: the GUID the accept value is made with. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const DEFAULT_IDLE_TIMEOUT = 30;

function idleTimeoutMs(value: number | undefined): number {
  if (value === undefined) return DEFAULT_IDLE_TIMEOUT * 1000;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`upgradeWebSocket(): idleTimeout must be a number of seconds, 0 or more: received ${String(value)}`);
  }
  return value * 1000;
}

/**
 * Upgrade the request of a WebSocket opening handshake, as Deno.upgradeWebSocket(): returns the
 * socket, CONNECTING, and the 101 response; the socket opens once the app has answered with that
 * response and it is written. Throws a WebSocketHandshakeError for a request that is no valid
 * handshake (an app that lets it escape answers 400, or 426), and a TypeError for a request this
 * server did not receive (a copy made with `new Request()`) or one already upgraded.
 */
export function upgradeWebSocket(request: Request, options: UpgradeWebSocketOptions = {}): WebSocketUpgrade {
  // Every IncomingRequest the server makes has an UpgradeConnection: the task inline, the call in a worker.
  const connection = IncomingRequest.connectionOf(request) as UpgradeConnection | undefined;
  if (connection === undefined) {
    throw new TypeError(
      'upgradeWebSocket(): the request must be one the server gave the app (a copy made with new Request() cannot be upgraded)',
    );
  }
  const head = connection.requestHead;
  const idleMs = idleTimeoutMs(options.idleTimeout);
  const read = readHandshake(head.method, head.version, head.headers);
  if (read.kind === 'error') throw new WebSocketHandshakeError(read.error);
  const protocol = options.protocol === undefined ? '' : String(options.protocol);
  // RFC 6455 §4.2.2: the server may accept one of the subprotocols the client offered, and no other.
  if (protocol !== '' && !read.handshake.protocols.includes(protocol)) throw new WebSocketHandshakeError(HANDSHAKE.protocolNotOffered);
  const url = request.url.replace(/^http/, 'ws');
  const { socket, driver } = UpgradedWebSocket.create(url, (error) => connection.reportListenerError(error));
  // What the 101 will carry, as Deno's response shows it; ws writes the 101 itself.
  const accept = createHash('sha1')
    .update(read.handshake.key + GUID)
    .digest('base64');
  const fields: [string, string][] = [
    ['upgrade', 'websocket'],
    ['connection', 'Upgrade'],
    ['sec-websocket-accept', accept],
  ];
  if (protocol !== '') fields.push(['sec-websocket-protocol', protocol]);
  const pending = new Pending(driver, protocol, idleMs, fields);
  connection.takeOver(pending);
  return { socket, response: pending.response };
}

class Pending implements PendingWebSocket {
  readonly response: Response;
  constructor(
    readonly driver: SocketDriver,
    readonly protocol: string,
    readonly idleTimeoutMs: number,
    fields: [string, string][],
  ) {
    // The 101 is marked with what it completes: the server knows it by that (src/fetch/response.ts).
    this.response = switchingProtocols(this, fields);
  }
}
