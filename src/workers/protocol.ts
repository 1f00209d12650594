// src/workers/protocol.ts: the messages of one request between the main thread and a worker.
//
// Per-request traffic goes over a plain MessagePort, not comlink: comlink costs ~15 µs of
// main-thread CPU a call against ~3-5 µs for postMessage (measured on Node 20), and
// a request is two to four messages. comlink carries the worker's API: start-up (ready()).
//
// The main thread sends what it has for a worker once per event-loop turn, as one array
// (ToWorker[]). One message for several requests is the point: each message costs a structured
// clone, an event and often a thread wake-up, which on a busy core cost more than a small app
// does. A worker starts each request as it arrives (up to `threadConcurrency` in progress); a
// request that is still pending when the worker's turn ends is acknowledged (`awaiting`), so the
// main thread knows the worker's CPU is free again and can give it more (`dispatchWindow` bounds
// the requests a worker holds that it has not yet acknowledged).
//
//   main                                   worker
//   request (PackedRequest)             ─▶  app(request, info)   (or waits its turn)
//                                       ◀─ head {id, status, statusText, headers, body | streaming}
//   pull {id}  (one per body chunk wanted) ─▶
//                                       ◀─ chunk {id, bytes} … end {id} | fail {id, after the head}
//                                       ◀─ fail {id} (app threw / unsendable, before the head)
//                                       ◀─ upgrade {id, headers, protocol, idleTimeoutMs, port}
//                                          (the app answered with upgradeWebSocket()'s 101: the
//                                          port carries its socket, src/websocket/port-link.ts)
//                                       ◀─ listener {target, error} (a WebSocket listener threw)
//                                       ◀─ awaiting {ids}  (started, and still pending at the end of the turn)
//   abort {id}  (the client half-closed: request.signal aborts, the answer is still wanted) ─▶
//   cancel {id} (the client is gone, or handler_timeout: request.signal aborts, the answer is not wanted) ─▶
//                                       ◀─ done {id}  (after a cancel, when nothing else was last)
// The worker is free of a request after the message marked `last`: a head with its whole body,
// an end, a fail, an upgrade (the socket holds no slot), or a done; nothing more is sent for that id, and the main thread may give the
// id to the next request it sends this worker (ids are slots, reused). It counts the requests it has started in shared memory
// (WorkerData.started), so that when it dies the main thread knows exactly which of the ones it
// was given never started, and gives those to another worker.

import type { MessagePort } from 'node:worker_threads';
import type { RequestBody } from '../fetch/body-buffer.js';
import type { AppHead } from '../fetch/request.js';
import type { ConnectionInfo } from '../app.js';
import { codeOf } from '../errors.js';

/**
 * A request as it crosses: a flat array, because structured clone writes every key of an object
 * and a request is the message sent most (a nested object costs ~3 µs more per request).
 */
type PackedRequest = [
  id: number,
  method: string,
  url: string,
  headers: string[],
  /** HEAD_CHUNKED and HEAD_HTTP10, or'ed: what of the head's framing and version the app's side needs. */
  flags: number,
  body: RequestBody,
  remoteAddress: string,
  remotePort: number,
  urlScheme: string,
  scriptName: string,
  serverName: string,
  serverPort: number,
];

/** The body came chunked: the app then sees a Content-Length instead (src/fetch/request.ts). */
const HEAD_CHUNKED = 1;
/** The request line said HTTP/1.0 (upgradeWebSocket() reads the version). */
const HEAD_HTTP10 = 2;

export interface WorkerRequest {
  id: number;
  head: AppHead;
  url: string;
  body: RequestBody;
  info: ConnectionInfo;
}

export type ToWorker = PackedRequest | { t: 'pull' | 'abort' | 'cancel'; id: number };

export function packRequest({ id, head, url, body, info }: WorkerRequest): PackedRequest {
  return [
    id,
    head.method,
    url,
    head.headers,
    (head.framing.kind === 'chunked' ? HEAD_CHUNKED : 0) | (head.version === '1.0' ? HEAD_HTTP10 : 0),
    body,
    info.remoteAddress,
    info.remotePort,
    info.urlScheme,
    info.scriptName,
    info.serverName,
    info.serverPort,
  ];
}

export function unpackRequest(packed: PackedRequest): WorkerRequest {
  const [id, method, url, headers, flags, body, remoteAddress, remotePort, urlScheme, scriptName, serverName, serverPort] = packed;
  return {
    id,
    // Non-chunked framing needs no more detail on this side than that it is not chunked.
    head: {
      method,
      version: (flags & HEAD_HTTP10) !== 0 ? '1.0' : '1.1',
      headers,
      framing: { kind: (flags & HEAD_CHUNKED) !== 0 ? 'chunked' : 'none' },
    },
    url,
    body,
    info: { remoteAddress, remotePort, urlScheme, scriptName, serverName, serverPort },
  };
}

/** An error as it crosses threads (or processes): comlink and structured clone lose class and fields. */
export interface WorkerError {
  name: string;
  message: string;
  stack: string | undefined;
  /** Its `code` (errors.ts codeOf), which the log shows on the other side. */
  code: string | undefined;
  /** What caused it, crossing the same way (a chain is cut after MAX_CAUSES). */
  cause: WorkerError | undefined;
}

/** How many causes of an error cross with it: enough for a wrapped error, and no cycle runs away. */
const MAX_CAUSES = 4;

/** `last` marks the worker's last message for a request: it is free again (one message fewer). */
export type FromWorker =
  | {
      t: 'head';
      id: number;
      status: number;
      statusText: string;
      headers: string[];
      body: string | Uint8Array | null;
      streaming: boolean;
      /** A file the main thread sends from disk (fileResponse): only its path crosses. */
      file: string | undefined;
      last: boolean;
    }
  | { t: 'chunk'; id: number; bytes: Uint8Array }
  | { t: 'end'; id: number; last: true }
  | { t: 'fail'; id: number; error: WorkerError; unsendable: boolean; last: true }
  | { t: 'done'; id: number; last: true }
  | {
      t: 'upgrade';
      id: number;
      /** The 101's fields as the app left them, flat; checked on the main thread. */
      headers: string[];
      protocol: string;
      idleTimeoutMs: number;
      /** The app's socket is on the other end (moved with this message). */
      port: MessagePort;
      last: true;
    }
  | { t: 'awaiting'; ids: number[] }
  /** A listener of a WebSocket threw (the request it came with may be long over). */
  | { t: 'listener'; target: string; error: WorkerError };

/**
 * How loading the app went in a worker. A load error is returned, not thrown: comlink would
 * pass only its message and stack, and the main thread reports it as an inline load would.
 */
export type WorkerStart = { error: WorkerError } | { factoryHint: string | undefined };

/** The worker's comlink API. */
export interface WorkerApi {
  /** Resolves once the app module is loaded, or could not be. */
  ready(): Promise<WorkerStart>;
}

export interface WorkerData {
  appRef: string;
  port: MessagePort;
  overrideGlobalObjects: boolean;
  /** One Int32: how many requests the worker has started. Written by the worker, read by the main thread once it exits. */
  started: SharedArrayBuffer;
}

export function toWorkerError(error: unknown, causes = MAX_CAUSES): WorkerError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), stack: undefined, code: undefined, cause: undefined };
  const cause = error.cause === undefined || causes === 0 ? undefined : toWorkerError(error.cause, causes - 1);
  return { name: error.name, message: error.message, stack: error.stack, code: codeOf(error), cause };
}

/** Rebuild an Error on this side, keeping the stack, the code and the causes from the other. */
export function fromWorkerError(e: WorkerError): Error {
  const error: Error & { code?: string } = new Error(e.message, e.cause === undefined ? undefined : { cause: fromWorkerError(e.cause) });
  error.name = e.name;
  if (e.stack !== undefined) error.stack = e.stack;
  if (e.code !== undefined) error.code = e.code;
  return error;
}

/**
 * Bytes to post with one copy at most. Structured clone of a view copies its whole underlying
 * buffer (a 13-byte slice of a 64 KiB read would send 64 KiB), so a view is copied to its own
 * buffer, which is then moved. A buffer is moved as it is only when `ours` says nothing else
 * holds it: an app's bytes are never detached under it (it may cache and reuse them), and small
 * Buffers share Node's 8 KiB pool slab.
 */
export function forPosting(bytes: Uint8Array, ours: boolean): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  if (ours && whole && bytes.byteLength >= 4096) return { bytes, transfer: [bytes.buffer as ArrayBuffer] };
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return { bytes: copy, transfer: [copy.buffer] };
}
