// src/websocket/socket.ts: the WebSocket an app gets from upgradeWebSocket(): the standard object
// (WHATWG WebSockets: readyState, send, close, binaryType, bufferedAmount, onopen and
// addEventListener, MessageEvent and CloseEvent), on the server's side of the connection, as
// Deno's server sockets behave.
//
// It knows nothing of frames or sockets: what it sends goes through a SocketLink (ws's WebSocket
// on the main thread, or a port to it from a worker thread), and what arrives comes through its
// SocketDriver, which the upgrade hands to whoever holds the frames (src/websocket/hub.ts,
// src/websocket/port-link.ts). So the same object serves an app inline and in a worker thread.
//
// Differences from a browser's, all Deno's too: it starts CONNECTING and opens once the 101 is
// written; binaryType is 'arraybuffer' by default; send() throws unless OPEN; a server may close
// with any code an endpoint may send (RFC 6455 §7.4), not only 1000 and 3000-4999. An exception
// thrown by a listener is logged and the others still run, rather than ending the process.

import { isSendableCloseCode, MAX_CLOSE_REASON_BYTES } from '../http/websocket.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

/** The code a close event has when no close frame came: the connection just went (RFC 6455 §7.1.5). */
const ABNORMAL_CLOSURE = 1006;

/** What a send() may carry, as WHATWG's WebSocket.send() takes it. */
export type WebSocketData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** What the socket sends through: bytes (binary) or a string (text), and the close. */
export interface SocketLink {
  /**
   * A text message (a string) or a binary one (bytes the link may keep: they are a copy);
   * `written`, when given, is called once it is written to the network (or failed to be).
   */
  send(data: string | Uint8Array, written?: () => void): void;
  /** Start the closing handshake (RFC 6455 §7.1.2); undefined code: a close frame without one. */
  close(code: number | undefined, reason: string): void;
  /** Bytes sent and not yet written to the network. */
  readonly bufferedAmount: number;
}

/** What drives the socket from the frames' side: not for apps. */
export interface SocketDriver {
  /** The 101 is written and `link` carries the frames: the socket opens. */
  open(link: SocketLink, protocol: string): void;
  /** A message arrived: text as a string, binary as its own ArrayBuffer. */
  message(data: string | ArrayBuffer): void;
  /** The connection failed (a protocol error, a client that stopped answering pings); a close follows. */
  error(message: string): void;
  /** The connection is closed: the close frame's code and reason (1006 and '' when none came). */
  closed(code: number, reason: string, wasClean: boolean): void;
  /** The socket never opens: the app answered otherwise, or the connection went first. */
  abandon(): void;
}

/** WHATWG's CloseEvent, which Node 20 lacks. */
export class CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

/** WHATWG's ErrorEvent, which Node 20 lacks. */
export class ErrorEvent extends Event {
  readonly message: string;
  readonly error: unknown;
  constructor(type: string, init: { message?: string; error?: unknown } = {}) {
    super(type);
    this.message = init.message ?? '';
    this.error = init.error;
  }
}

type Listener = ((event: Event) => void) | { handleEvent(event: Event): void };
type Handler = ((this: UpgradedWebSocket, event: Event) => unknown) | null;
type ListenerOptions = Parameters<EventTarget['addEventListener']>[2];
type RemoveOptions = Parameters<EventTarget['removeEventListener']>[2];

const utf8 = new TextEncoder();

/** WebIDL's [Clamp] unsigned short, as close() converts its code. */
function clampUnsignedShort(value: number): number {
  const n = Number(value);
  if (Number.isNaN(n)) return 0;
  return Math.min(0xffff, Math.max(0, Math.round(n)));
}

/** A copy of the bytes of `data`, or its text: what the link is given (the app may reuse its buffers). */
function sendable(data: Exclude<WebSocketData, Blob>): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && data instanceof SharedArrayBuffer)) {
    return new Uint8Array(data).slice();
  }
  return String(data);
}

function sizeOf(item: string | Uint8Array | Blob): number {
  return typeof item === 'string' ? utf8.encode(item).byteLength : item instanceof Blob ? item.size : item.byteLength;
}

let driverOf: (socket: UpgradedWebSocket, report: (error: unknown) => void) => SocketDriver;

/** The WebSocket of one upgraded connection, as the app sees it. Apps get one from upgradeWebSocket(). */
export class UpgradedWebSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /** The request's URL, with the ws: or wss: scheme. */
  readonly url: string;
  /** No extension is negotiated (RFC 6455 §9). */
  readonly extensions = '';
  #readyState: ReadyState = CONNECTING;
  #protocol = '';
  #binaryType: 'arraybuffer' | 'blob' = 'arraybuffer';
  #link: SocketLink | undefined;
  /** close() came while CONNECTING: sent once the socket opens. */
  #closeWhenOpen: { code: number | undefined; reason: string } | undefined;
  /** Sends waiting for a Blob's bytes, in order (WHATWG: messages leave in the order sent). */
  #queue: (string | Uint8Array | Blob)[] = [];
  #queuedBytes = 0;
  /** Where a listener's exception goes (the server's log). */
  #report: (error: unknown) => void = () => {};
  readonly #guarded = new WeakMap<Listener, (event: Event) => void>();
  readonly #handlers = new Map<string, Handler>();
  readonly #callHandler = (event: Event): void => {
    const handler = this.#handlers.get(event.type);
    if (handler === null || handler === undefined) return;
    try {
      handler.call(this, event);
    } catch (error) {
      this.#report(error);
    }
  };

  private constructor(url: string) {
    super();
    this.url = url;
  }

  /** A socket still CONNECTING, and its driver; `report` gets what its listeners throw. */
  static create(url: string, report: (error: unknown) => void): { socket: UpgradedWebSocket; driver: SocketDriver } {
    const socket = new UpgradedWebSocket(url);
    return { socket, driver: driverOf(socket, report) };
  }

  static {
    driverOf = (socket, report) => {
      socket.#report = report;
      return {
        open: (link, protocol) => socket.#open(link, protocol),
        message: (data) => socket.#message(data),
        error: (message) => socket.#error(message),
        closed: (code, reason, wasClean) => socket.#closed(code, reason, wasClean),
        abandon: () => {
          if (socket.#readyState === CLOSED) return;
          socket.#error('the connection was not upgraded');
          socket.#closed(ABNORMAL_CLOSURE, '', false);
        },
      };
    };
  }

  get readyState(): ReadyState {
    return this.#readyState;
  }

  /** The subprotocol accepted (RFC 6455 §1.9), once open; '' when none. */
  get protocol(): string {
    return this.#protocol;
  }

  get binaryType(): 'arraybuffer' | 'blob' {
    return this.#binaryType;
  }

  set binaryType(value: string) {
    if (value === 'arraybuffer' || value === 'blob') this.#binaryType = value;
  }

  /** Bytes sent and not yet on the network (0 unless OPEN, as Deno's). */
  get bufferedAmount(): number {
    return this.#readyState === OPEN ? this.#link!.bufferedAmount + this.#queuedBytes : 0;
  }

  send(data: WebSocketData): void {
    if (this.#readyState !== OPEN) throw new DOMException("'readyState' not OPEN", 'InvalidStateError');
    if (this.#queue.length > 0 || data instanceof Blob) {
      this.#enqueue(data);
      return;
    }
    this.#link!.send(sendable(data));
  }

  close(code?: number, reason?: string): void {
    let sent = code === undefined ? undefined : clampUnsignedShort(code);
    if (sent !== undefined && !isSendableCloseCode(sent)) {
      throw new DOMException(
        `The close code must be 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 §7.4): received ${sent}`,
        'InvalidAccessError',
      );
    }
    const text = reason === undefined ? '' : String(reason);
    if (utf8.encode(text).byteLength > MAX_CLOSE_REASON_BYTES) {
      throw new DOMException(`The close reason may not be longer than ${MAX_CLOSE_REASON_BYTES} bytes (RFC 6455 §5.5)`, 'SyntaxError');
    }
    // A reason travels only after a code (RFC 6455 §5.5.1): 1000, Normal Closure, as Deno sends.
    if (sent === undefined && text !== '') sent = 1000;
    const state = this.#readyState;
    if (state === CLOSING || state === CLOSED) return;
    this.#readyState = CLOSING;
    if (state === CONNECTING) this.#closeWhenOpen = { code: sent, reason: text };
    else this.#link!.close(sent, text);
  }

  // EventTarget, with each listener guarded: what one throws is logged, and the others still run.

  override addEventListener(type: string, listener: Listener | null, options?: ListenerOptions): void {
    if (listener === null) return;
    let guarded = this.#guarded.get(listener);
    if (guarded === undefined) {
      guarded = (event) => {
        try {
          if (typeof listener === 'function') listener.call(this, event);
          else listener.handleEvent(event);
        } catch (error) {
          this.#report(error);
        }
      };
      this.#guarded.set(listener, guarded);
    }
    super.addEventListener(type, guarded, options);
  }

  override removeEventListener(type: string, listener: Listener | null, options?: RemoveOptions): void {
    const guarded = listener === null ? undefined : this.#guarded.get(listener);
    if (guarded !== undefined) super.removeEventListener(type, guarded, options);
  }

  get onopen(): Handler {
    return this.#handler('open');
  }
  set onopen(handler: Handler) {
    this.#setHandler('open', handler);
  }
  get onmessage(): Handler {
    return this.#handler('message');
  }
  set onmessage(handler: Handler) {
    this.#setHandler('message', handler);
  }
  get onerror(): Handler {
    return this.#handler('error');
  }
  set onerror(handler: Handler) {
    this.#setHandler('error', handler);
  }
  get onclose(): Handler {
    return this.#handler('close');
  }
  set onclose(handler: Handler) {
    this.#setHandler('close', handler);
  }

  #handler(type: string): Handler {
    return this.#handlers.get(type) ?? null;
  }

  /** WHATWG event handler attributes: the handler keeps the place its first setting took among the listeners. */
  #setHandler(type: string, handler: Handler): void {
    const value = typeof handler === 'function' ? handler : null;
    const had = this.#handler(type) !== null;
    this.#handlers.set(type, value);
    if (value !== null && !had) super.addEventListener(type, this.#callHandler);
    else if (value === null && had) super.removeEventListener(type, this.#callHandler);
  }

  // ---- from the driver -------------------------------------------------------------------------

  #open(link: SocketLink, protocol: string): void {
    if (this.#readyState === CLOSED) return;
    this.#link = link;
    this.#protocol = protocol;
    const close = this.#closeWhenOpen;
    if (close !== undefined) {
      // close() came before the 101 went out: the socket closes without opening.
      this.#closeWhenOpen = undefined;
      link.close(close.code, close.reason);
      return;
    }
    this.#readyState = OPEN;
    this.dispatchEvent(new Event('open'));
  }

  #message(data: string | ArrayBuffer): void {
    if (this.#readyState !== OPEN && this.#readyState !== CLOSING) return;
    const value = typeof data === 'string' || this.#binaryType === 'arraybuffer' ? data : new Blob([data]);
    this.dispatchEvent(new MessageEvent('message', { data: value }));
  }

  #error(message: string): void {
    if (this.#readyState === CLOSED) return;
    this.dispatchEvent(new ErrorEvent('error', { message }));
  }

  #closed(code: number, reason: string, wasClean: boolean): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
  }

  /** A Blob's bytes come later: it and what is sent after it wait their turn (taken as they are now). */
  #enqueue(data: WebSocketData): void {
    const item = data instanceof Blob ? data : sendable(data);
    this.#queue.push(item);
    this.#queuedBytes += sizeOf(item);
    if (this.#queue.length === 1) void this.#sendQueued();
  }

  async #sendQueued(): Promise<void> {
    const queue = this.#queue;
    while (queue.length > 0) {
      const item = queue[0]!;
      const data = item instanceof Blob ? new Uint8Array(await item.arrayBuffer()) : item;
      // Closed meanwhile: what waited is dropped, as a closed socket sends nothing.
      if (this.#queue !== queue || this.#readyState !== OPEN) return;
      this.#queuedBytes -= sizeOf(item);
      queue.shift();
      this.#link!.send(data);
    }
  }
}

for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
  Object.defineProperty(UpgradedWebSocket.prototype, name, { value, enumerable: true });
}
