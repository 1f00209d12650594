// src/workers/worker.ts: a worker thread running the app: an event loop, so many requests at once.
//
// The worker never touches a socket: it gets complete requests over its MessagePort and starts
// each as it arrives (the main thread keeps at most `threadConcurrency` in progress here). An app
// that answers within its turn answers in that turn; one that awaits I/O, a timer or a stream is
// acknowledged at the end of the turn (`awaiting`), so the main thread can send more while it
// waits. Each response goes back as the head with a known body in one message, or the head and
// then body chunks, one per `pull` from the main thread (so a slow client slows the app's stream
// only once the main thread has buffered outbuf_high_watermark of it). See protocol.ts. An app
// that answers with upgradeWebSocket()'s 101 keeps its socket here, joined over a port of its own
// to ws's on the main thread (src/websocket/port-link.ts); its call is over, and frees its slot.

import { MessageChannel, parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { loadAppRef } from '../app-ref.js';
import { nodeEndpoint } from './comlink-node.js';
import { endSpooledReaders, type RequestBody } from '../fetch/body-buffer.js';
import { IncomingRequest, type AppHead } from '../fetch/request.js';
import { readResponse } from '../fetch/read-response.js';
import { installLiteResponse, upgradeOf } from '../fetch/response.js';
import { linkOverPort } from '../websocket/port-link.js';
import type { PendingWebSocket, UpgradeConnection } from '../websocket/upgrade.js';
import {
  forPosting,
  toWorkerError,
  unpackRequest,
  type FromWorker,
  type ToWorker,
  type WorkerApi,
  type WorkerData,
  type WorkerRequest,
  type WorkerStart,
} from './protocol.js';
import { toHandler, type FetchHandler } from '../app.js';
import { AppResponseError } from '../errors.js';

const data = workerData as WorkerData;
const port = data.port;
if (data.overrideGlobalObjects) installLiteResponse();

/** The app, once loaded; the main thread sends no request before ready() resolved. */
let app: FetchHandler = () => {
  throw new Error('waitstate: the app is not loaded yet');
};
const loading: Promise<WorkerStart> = loadAppRef(data.appRef, '/').then(
  (loaded) => {
    app = toHandler(loaded.app);
    return { factoryHint: loaded.factoryHint };
  },
  (error: unknown) => ({ error: toWorkerError(error) }),
);

const api: WorkerApi = {
  ready() {
    return loading;
  },
};
Comlink.expose(api, nodeEndpoint(parentPort!));

/** One request in the app; what upgradeWebSocket() reaches through its request. */
class AppCall implements UpgradeConnection {
  /** The answer is not wanted any more: stop a streamed body. */
  cancelled = false;
  request: IncomingRequest | undefined = undefined;
  /** A message marked `last` went out: the main thread knows the worker is free of it. */
  finished = false;
  /** Resolves the body pump's wait for the next `pull`. */
  wake: (() => void) | undefined = undefined;
  credit = 0;
  /** The app returned or threw: upgradeWebSocket() comes too late. */
  answered = false;
  /** The socket upgradeWebSocket() gave the app, until its 101 goes to the main thread. */
  pending: PendingWebSocket | undefined = undefined;

  constructor(
    /** Its id on the port: a slot the main thread reuses once this call's `last` message is in. */
    readonly id: number,
    readonly requestHead: AppHead,
    readonly url: string,
    /** A spooled one is the main thread's to remove; its readers here close when the call is over. */
    readonly body: RequestBody,
  ) {}

  takeOver(pending: PendingWebSocket): void {
    if (this.pending !== undefined) throw new TypeError('upgradeWebSocket(): the request was upgraded already');
    if (this.answered) throw new TypeError('upgradeWebSocket(): the request was answered already');
    if (this.cancelled) throw new TypeError('upgradeWebSocket(): the client is gone');
    this.pending = pending;
  }

  reportListenerError(error: unknown): void {
    // The request's target as the log names it inline: the URL from its path on.
    const url = this.url;
    post({ t: 'listener', target: url.slice(url.indexOf('/', url.indexOf('//') + 2)), error: toWorkerError(error) });
  }

  /** The socket will not open: the app answered otherwise, failed, or the client is gone. */
  abandonSocket(): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.driver.abandon();
  }
}
const calls = new Map<number, AppCall>();

/** How many requests this worker has started, shared with the main thread (see protocol.ts). */
const startedCount = new Int32Array(data.started);
let started = 0;
/** Requests started in this turn and still pending: acknowledged together when it ends. */
let pendingThisTurn: AppCall[] = [];

function post(message: FromWorker, transfer: TransferListItem[] = []): void {
  port.postMessage(message, transfer);
}

function finish(call: AppCall, message: FromWorker & { last: true }, transfer: TransferListItem[] = []): void {
  call.finished = true;
  post(message, transfer);
}

// The main thread sends what it has for this worker once per turn, in one message.
port.on('message', (batch: ToWorker[]) => {
  for (const message of batch) receive(message);
});

function receive(message: ToWorker): void {
  if (Array.isArray(message)) {
    start(unpackRequest(message));
    return;
  }
  const call = calls.get(message.id);
  if (call === undefined || call.finished) return; // over already
  if (message.t === 'pull') call.credit++;
  else {
    // abort: the client half-closed, and may still read the answer; cancel: nobody will.
    if (message.t === 'cancel') call.cancelled = true;
    call.request?.clientGone();
  }
  call.wake?.();
}

/** Run the app; a synchronous answer is sent back in the same turn (no promise hops). */
function start(message: WorkerRequest): void {
  const { id } = message;
  Atomics.store(startedCount, 0, ++started);
  const call = new AppCall(id, message.head, message.url, message.body);
  calls.set(id, call);
  let pending: Promise<void> | undefined;
  try {
    call.request = new IncomingRequest(message.head, message.url, message.body, call);
    const result: unknown = app(call.request as unknown as Request, message.info);
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      pending = Promise.resolve(result).then(
        (response) => respond(call, response),
        (error: unknown) => fail(call, error),
      );
    } else {
      pending = respond(call, result);
    }
  } catch (error) {
    fail(call, error);
  }
  if (pending === undefined) {
    settle(call);
    return;
  }
  void pending.finally(() => settle(call));
  if (pendingThisTurn.length === 0) setImmediate(acknowledge);
  pendingThisTurn.push(call);
}

/** The turn is over: the requests that still wait are acknowledged, so the main thread sends more. */
function acknowledge(): void {
  const ids = pendingThisTurn.filter((call) => !call.finished).map((call) => call.id);
  pendingThisTurn = [];
  if (ids.length > 0) post({ t: 'awaiting', ids });
}

/** The request is over for this worker; it must have said so in a message marked `last`. */
function settle(call: AppCall): void {
  const { id } = call;
  // Its slot may already serve the next request: leave that one be.
  if (calls.get(id) === call) calls.delete(id);
  if (!call.finished) post({ t: 'done', id, last: true });
  endSpooledReaders(call.body);
}

function fail(call: AppCall, error: unknown): void {
  const { id } = call;
  call.answered = true;
  call.abandonSocket();
  finish(call, { t: 'fail', id, error: toWorkerError(error), unsendable: false, last: true });
}

/** Send the response; returns a promise only while a streamed body is being pumped. */
function respond(call: AppCall, result: unknown): Promise<void> | undefined {
  const { id } = call;
  call.answered = true;
  const parts = readResponse(result);
  if (parts instanceof AppResponseError) {
    call.abandonSocket();
    finish(call, { t: 'fail', id, error: toWorkerError(parts), unsendable: true, last: true });
    return undefined;
  }
  const { status, statusText, headers, body, stream, file } = parts;
  if (call.cancelled) {
    call.abandonSocket();
    stream?.cancel().catch(() => {});
    return undefined;
  }
  const upgrade = call.pending;
  if (upgrade !== undefined && upgradeOf(result) === upgrade) {
    call.pending = undefined;
    // The app's socket stays here, on one end of a channel of its own; the other end goes with the 101.
    const channel = new MessageChannel();
    linkOverPort(channel.port1, upgrade.driver);
    const { protocol, idleTimeoutMs } = upgrade;
    finish(call, { t: 'upgrade', id, headers, protocol, idleTimeoutMs, port: channel.port2, last: true }, [channel.port2]);
    return undefined;
  }
  call.abandonSocket();
  if (stream !== undefined) {
    post({ t: 'head', id, status, statusText, headers, body: null, streaming: true, file: undefined, last: false });
    return pump(call, stream);
  }
  if (body instanceof Uint8Array) {
    const moved = forPosting(body, false);
    finish(
      call,
      { t: 'head', id, status, statusText, headers, body: moved.bytes, streaming: false, file: undefined, last: true },
      moved.transfer,
    );
  } else {
    finish(call, { t: 'head', id, status, statusText, headers, body, streaming: false, file, last: true });
  }
  return undefined;
}

async function pump(call: AppCall, stream: ReadableStream<Uint8Array>): Promise<void> {
  const { id } = call;
  const reader = stream.getReader();
  try {
    for (;;) {
      while (call.credit === 0 && !call.cancelled) await new Promise<void>((resolve) => (call.wake = resolve));
      call.wake = undefined;
      if (call.cancelled) {
        await reader.cancel();
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        finish(call, { t: 'end', id, last: true });
        return;
      }
      if (!(value instanceof Uint8Array)) throw new TypeError('a response body chunk is not a Uint8Array');
      if (value.byteLength === 0) continue;
      call.credit--;
      const moved = forPosting(value, false);
      post({ t: 'chunk', id, bytes: moved.bytes }, moved.transfer);
    }
  } catch (error) {
    finish(call, { t: 'fail', id, error: toWorkerError(error), unsendable: false, last: true });
  }
}
