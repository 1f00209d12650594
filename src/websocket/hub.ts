// src/websocket/hub.ts: the main thread's side of a server's WebSockets. ws's WebSocketServer
// (one per server, noServer) takes a connection over once the app answered its handshake with
// the 101 of upgradeWebSocket(): it writes the 101, then frames the connection (RFC 6455 §5); we
// never write a frame ourselves. Here too: a socket's liveness (idleTimeout: a ping after half of
// it in silence, a close with 1001 after the other half, as Deno), and joining ws's socket to the
// app's on this thread (threads: 0). With worker threads the app's socket is joined across a port
// instead (src/websocket/port-link.ts).

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SocketDriver, SocketLink } from './socket.js';
import type { PendingWebSocket } from './upgrade.js';

/**
 * The largest message a client may send, fragments together: past it ws fails the connection
 * with 1009, Message Too Big (RFC 6455 §7.4.1), as Deno does past its own 64 MiB.
 */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** The reason of the close that ends a socket that did not answer a ping, Deno's words. */
const NO_PONG = 'No response from ping frame.';
/** RFC 6455 §7.4.1: 1001, Going Away: the server is stopping. */
export const GOING_AWAY = 1001;

/** An app's socket waiting, on the main thread, for its connection. */
export interface Takeover {
  /** The subprotocol accepted; '' when none. */
  readonly protocol: string;
  /** idleTimeout in ms; 0: none. */
  readonly idleTimeoutMs: number;
  /** ws has the connection and the 101 is written: join the app's socket to it (here, or across to its worker thread). */
  open(ws: WebSocket): void;
  /** The connection will not be taken over (the app answered otherwise, or it went first): the socket never opens. */
  abandon(): void;
}

/**
 * The request as ws's handleUpgrade() and completeUpgrade() read it (ws/lib/websocket-server.js):
 * the method, the target and the fields (lower-case names, repeated ones joined as node:http
 * joins them); and, for our 'headers' listener, the lines the 101 carries besides ws's own.
 */
interface UpgradeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly lines: readonly string[];
}

/** What of the handshake request the hand-over needs: a RequestHead has it. */
export interface HandshakeHead {
  readonly method: string;
  readonly target: string;
  readonly headers: readonly string[];
}

function headersObject(flat: readonly string[], protocol: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    headers[name] = headers[name] === undefined ? flat[i + 1]! : `${headers[name]}, ${flat[i + 1]!}`;
  }
  // The subprotocol was chosen by the app among those offered (src/http/websocket.ts read the
  // client's list, which may hold empty elements that ws's stricter parser refuses): ws is told
  // only the choice, and so writes exactly it (RFC 6455 §4.2.2), or none.
  if (protocol === '') delete headers['sec-websocket-protocol'];
  else headers['sec-websocket-protocol'] = protocol;
  return headers;
}

/** One server's WebSockets: ws's WebSocketServer, made on the first upgrade. */
export class WebSocketHub {
  #server: WebSocketServer | undefined;

  #wsServer(): WebSocketServer {
    if (this.#server !== undefined) return this.#server;
    const server = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: MAX_MESSAGE_BYTES });
    // The 101 carries what the app put on its response (Set-Cookie, …), Date and Server.
    server.on('headers', (lines: string[], request: IncomingMessage) => {
      for (const line of (request as unknown as UpgradeRequest).lines) lines.push(line);
    });
    this.#server = server;
    return server;
  }

  /**
   * Give `socket` to ws, which writes the 101 (with `lines`) and frames the connection from then
   * on; `pending` is what the client sent after the handshake and was read already: the start of
   * its first frames. Returns ws's socket, joined to the app's, or undefined when ws would not
   * take the connection (the client half-closed already): the app's socket is abandoned and the
   * connection destroyed.
   */
  handOver(socket: Socket, head: HandshakeHead, pending: Buffer, lines: readonly string[], takeover: Takeover): WebSocket | undefined {
    const request: UpgradeRequest = {
      method: head.method,
      url: head.target,
      headers: headersObject(head.headers, takeover.protocol),
      lines,
    };
    let taken: WebSocket | undefined;
    // ws reads only what UpgradeRequest has (see its comment): not a whole IncomingMessage.
    this.#wsServer().handleUpgrade(request as unknown as IncomingMessage, socket, pending, (ws) => (taken = ws));
    if (taken === undefined) {
      takeover.abandon();
      socket.destroy();
      return undefined;
    }
    takeover.open(taken);
    return taken;
  }
}

/**
 * idleTimeout, as Deno keeps it: after half of it without a frame from the client, a ping; if
 * the other half passes without one either (RFC 6455 §5.5.3: a pong answers a ping), `silent`.
 */
export function keepAlive(ws: WebSocket, idleTimeoutMs: number, silent: () => void): void {
  if (idleTimeoutMs <= 0) return;
  let pinged = false;
  const timer = setTimeout(() => {
    if (pinged) {
      silent();
      return;
    }
    pinged = true;
    ws.ping();
    timer.refresh();
  }, idleTimeoutMs / 2);
  timer.unref();
  const heard = (): void => {
    pinged = false;
    timer.refresh();
  };
  ws.on('message', heard);
  ws.on('pong', heard);
  ws.on('ping', heard);
  ws.once('close', () => clearTimeout(timer));
}

/** A binary message's bytes as an ArrayBuffer of their own (ws may hand a view of a larger read). */
function ownArrayBuffer(data: Buffer): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = data;
  if (byteOffset === 0 && byteLength === buffer.byteLength && buffer instanceof ArrayBuffer) return buffer;
  return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
}

/**
 * Join ws's socket to a driver (the app's socket here, or a port to it): what arrives is
 * delivered, what is sent goes to ws, and liveness is kept. A socket closed for not answering a
 * ping is closed with 1001 at once for the app (error, then close, not clean), as Deno does; ws
 * finishes the closing handshake on its own.
 */
export function joinSocket(ws: WebSocket, driver: SocketDriver, idleTimeoutMs: number): void {
  let timedOut = false;
  ws.on('message', (data: Buffer, isBinary: boolean) => driver.message(isBinary ? ownArrayBuffer(data) : data.toString('utf8')));
  ws.on('error', (error: Error) => driver.error(error.message));
  // ws's own CloseEvent says whether the closing handshake was complete (wasClean).
  ws.addEventListener('close', (event) => {
    if (!timedOut) driver.closed(event.code, event.reason, event.wasClean);
  });
  keepAlive(ws, idleTimeoutMs, () => {
    timedOut = true;
    ws.close(GOING_AWAY, NO_PONG);
    driver.error(NO_PONG);
    driver.closed(GOING_AWAY, NO_PONG, false);
  });
  const link: SocketLink = {
    send: (data, written) => ws.send(data, written),
    close: (code, reason) => ws.close(code, reason),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
  driver.open(link, ws.protocol);
}

/** The takeover of an app's socket on this thread (threads: 0): ws's socket joined to it directly. */
export function localTakeover(pending: PendingWebSocket): Takeover {
  return {
    protocol: pending.protocol,
    idleTimeoutMs: pending.idleTimeoutMs,
    open: (ws) => joinSocket(ws, pending.driver, pending.idleTimeoutMs),
    abandon: () => pending.driver.abandon(),
  };
}
