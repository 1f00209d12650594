// src/websocket/port-link.ts: an app's WebSocket in a worker thread, joined to ws's socket on the
// main thread over a MessagePort of its own.
//
// The worker makes a MessageChannel when its app answers with the 101, keeps one port for the
// app's socket (linkOverPort) and sends the other to the main thread with the upgrade
// (src/workers/protocol.ts); there ws's socket is joined to it (portTakeover), as it is joined
// to the socket itself inline (src/websocket/hub.ts). The socket never leaves the main thread.
//
//   main (ws)                                   worker (the app's socket)
//   open {protocol}                          ─▶  open event
//   message {data}  (an ArrayBuffer moves)   ─▶  message event
//   error {message}, close {code, reason, wasClean}, abandon ─▶ error / close events
//   sent {count}  (messages written to the network) ─▶ bufferedAmount goes down
//                                            ◀─  send {data}  (bytes move), close {code, reason}
//
// bufferedAmount, in the worker: the bytes sent that the main thread has not yet written to the
// network (ws's send callback), so a client that does not read shows there as it does inline.
// The worker closes its port once the socket is closed: the main thread knows its app has seen
// the close event (a shutdown waits for that before it ends the worker threads).

import type { MessagePort } from 'node:worker_threads';
import type { WebSocket } from 'ws';
import { joinSocket, type Takeover } from './hub.js';
import type { SocketDriver, SocketLink } from './socket.js';

/** What the main thread tells the worker's socket. */
export type ToSocket =
  | { t: 'open'; protocol: string }
  | { t: 'message'; data: string | ArrayBuffer }
  | { t: 'error'; message: string }
  | { t: 'close'; code: number; reason: string; wasClean: boolean }
  | { t: 'abandon' }
  | { t: 'sent'; count: number };

/** What the worker's socket asks of the main thread. */
export type FromSocket = { t: 'send'; data: string | Uint8Array } | { t: 'close'; code: number | undefined; reason: string };

/** RFC 6455 §7.4.1: 1011, the server met an unexpected condition: the app's thread is gone. */
const INTERNAL_ERROR = 1011;

/**
 * The main thread's side: a takeover whose app's socket is in a worker, behind `port`. `onGone`
 * is called once the worker has closed its side (its socket is closed, or the thread ended).
 */
export function portTakeover(port: MessagePort, protocol: string, idleTimeoutMs: number, onGone: () => void): Takeover {
  let ws: WebSocket | undefined;
  // The connection's socket keeps the process up while it is open; the port need not.
  port.unref();
  port.once('close', () => {
    // The worker thread ended with the socket open: nobody answers on it any more.
    if (ws !== undefined && ws.readyState === ws.OPEN) ws.close(INTERNAL_ERROR, 'The worker thread exited');
    onGone();
  });
  return {
    protocol,
    idleTimeoutMs,
    open(taken) {
      ws = taken;
      joinSocket(taken, portDriver(port), idleTimeoutMs);
    },
    abandon() {
      port.postMessage({ t: 'abandon' } satisfies ToSocket);
    },
  };
}

/** The driver of an app's socket that is across `port`: what ws reports is posted to it. */
function portDriver(port: MessagePort): SocketDriver {
  const post = (message: ToSocket, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  return {
    open(link, protocol) {
      // Messages written to the network, told to the worker once a turn.
      let written = 0;
      const tell = (): void => {
        post({ t: 'sent', count: written });
        written = 0;
      };
      const onWritten = (): void => {
        if (written++ === 0) setImmediate(tell);
      };
      port.on('message', (message: FromSocket) => {
        if (message.t === 'send') link.send(message.data, onWritten);
        else link.close(message.code, message.reason);
      });
      post({ t: 'open', protocol });
    },
    message: (data) => post({ t: 'message', data }, typeof data === 'string' ? [] : [data]),
    error: (message) => post({ t: 'error', message }),
    closed: (code, reason, wasClean) => post({ t: 'close', code, reason, wasClean }),
    abandon: () => post({ t: 'abandon' }),
  };
}

/** The worker's side: drive the app's socket from `port`, and send through it. */
export function linkOverPort(port: MessagePort, driver: SocketDriver): void {
  // The size of each message sent and not yet written to the network, oldest first.
  const sizes: number[] = [];
  let first = 0;
  let unwritten = 0;
  const link: SocketLink = {
    send(data) {
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      sizes.push(size);
      unwritten += size;
      // The bytes are the socket's own copy (src/websocket/socket.ts): they move, not copied again.
      port.postMessage({ t: 'send', data } satisfies FromSocket, typeof data === 'string' ? [] : [data.buffer as ArrayBuffer]);
    },
    close(code, reason) {
      port.postMessage({ t: 'close', code, reason } satisfies FromSocket);
    },
    get bufferedAmount() {
      return unwritten;
    },
  };
  const end = (): void => {
    port.close();
  };
  port.on('message', (message: ToSocket) => {
    switch (message.t) {
      case 'open':
        driver.open(link, message.protocol);
        break;
      case 'message':
        driver.message(message.data);
        break;
      case 'sent':
        for (let n = 0; n < message.count; n++) unwritten -= sizes[first++]!;
        // Drop the sizes counted off now and then, not on every acknowledgement.
        if (first > 1024 && first * 2 > sizes.length) {
          sizes.splice(0, first);
          first = 0;
        }
        break;
      case 'error':
        driver.error(message.message);
        break;
      case 'close':
        driver.closed(message.code, message.reason, message.wasClean);
        end();
        break;
      case 'abandon':
        driver.abandon();
        end();
        break;
    }
  });
}
