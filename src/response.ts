// src/response.ts: a Response that costs nothing until someone looks inside, and the one place
// where the server reads what an app answered.
//
// Why: on Node 20 `new Response('Hello')` builds a WHATWG ReadableStream for its body, which
// alone costs ~11 µs (measured here: `new Response(str)` 15-17 µs, `new Response(null)` 0.3 µs);
// node:http serves a whole keep-alive request in ~15 µs. Like @hono/node-server (its
// `overrideGlobalObjects`), serve() replaces `globalThis.Response` with `LiteResponse`, which
// keeps a string/bytes body and its init as they are, passes `instanceof Response`, and turns
// into a real Response the first time anything but status/statusText/ok/headers is touched.
// `overrideGlobalObjects: false` keeps the real one; the server reads both.

import { filePathOf } from './file-response.js';
import { delegateToReal } from './lazy.js';

const RealResponse: typeof Response = globalThis.Response;

type SimpleBody = string | Uint8Array | ArrayBuffer | null;
type BodyInitLike = ConstructorParameters<typeof Response>[0];
type ResponseInitLike = ConstructorParameters<typeof Response>[1];
type HeadersInitArg = ConstructorParameters<typeof Headers>[0];
type HeadersInitLike = Headers | readonly (readonly [string, string])[] | Record<string, string>;

function isSimpleBody(body: unknown): body is SimpleBody | undefined {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

// The statuses a Response may carry and those that must not have a body (Fetch standard).
function checkStatus(status: number, hasBody: boolean): void {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
  }
  if (hasBody && (status === 204 || status === 205 || status === 304)) {
    throw new TypeError(`Response constructor: Invalid response status code ${status}`);
  }
}

/** The part of the ResponseInit a LiteResponse keeps without building anything. */
interface LiteInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInitLike;
}

export class LiteResponse {
  #body: SimpleBody;
  #status: number;
  #statusText: string;
  #headersInit: HeadersInitLike | undefined;
  #headers: Headers | undefined;
  #real: Response | undefined;

  constructor(body?: BodyInitLike, init?: ResponseInitLike) {
    const simpleInit =
      init === undefined || (typeof init === 'object' && init !== null && Object.getPrototypeOf(init) === Object.prototype);
    if (!isSimpleBody(body) || !simpleInit) {
      this.#real = new RealResponse(body, init);
      this.#body = null;
      this.#status = this.#real.status;
      this.#statusText = this.#real.statusText;
      this.#headersInit = undefined;
      return;
    }
    const liteInit = (init ?? {}) as LiteInit;
    this.#body = body ?? null;
    this.#status = liteInit.status ?? 200;
    checkStatus(this.#status, this.#body !== null);
    this.#statusText = liteInit.statusText ?? '';
    this.#headersInit = liteInit.headers;
    this.#real = undefined;
  }

  get status(): number {
    return this.#status;
  }
  get statusText(): string {
    return this.#statusText;
  }
  get ok(): boolean {
    return this.#status >= 200 && this.#status <= 299;
  }
  get headers(): Headers {
    if (this.#real !== undefined) return this.#real.headers;
    if (this.#headers === undefined) {
      const headers = new Headers(this.#headersInit as HeadersInitArg);
      if (this.#body !== null && !headers.has('content-type') && typeof this.#body === 'string') {
        headers.set('content-type', 'text/plain;charset=UTF-8');
      }
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** The real Response, built on first use of anything this class does not keep itself. */
  materialize(): Response {
    if (this.#real === undefined) {
      const headers = this.#headers ?? (this.#headersInit as HeadersInitArg);
      this.#real = new RealResponse(this.#body, {
        status: this.#status,
        statusText: this.#statusText,
        ...(headers === undefined ? {} : { headers }),
      });
      this.#body = null;
    }
    return this.#real;
  }

  /**
   * For the server: status, headers and a string/bytes body, or undefined once the response has
   * been materialized (then read it as a real Response).
   */
  static peek(res: LiteResponse): LitePeek | undefined {
    if (res.#real !== undefined) return undefined;
    return {
      status: res.#status,
      statusText: res.#statusText,
      headers: res.#headers ?? res.#headersInit,
      body: res.#body,
    };
  }

  /** Brand check: true only for LiteResponses (`instanceof` is true for every Response, see below). */
  static isLite(value: unknown): value is LiteResponse {
    return typeof value === 'object' && value !== null && #body in value;
  }

  // While LiteResponse stands in for globalThis.Response, `x instanceof Response` must stay true
  // for real Responses too (from fetch(), Response.json(), …), as user code expects.
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof RealResponse;
  }

  static json(data: unknown, init?: ResponseInitLike): Response {
    return RealResponse.json(data, init);
  }
  static error(): Response {
    return RealResponse.error();
  }
  static redirect(url: string | URL, status: Parameters<typeof Response.redirect>[1] = 302): Response {
    return RealResponse.redirect(url, status);
  }
}

export interface LitePeek {
  status: number;
  statusText: string;
  headers: HeadersInitLike | undefined;
  body: SimpleBody;
}

// Everything else a Response has (body, bodyUsed, clone(), text(), json(), …) goes to the real
// one, built on demand, so a LiteResponse behaves like a Response wherever it is used.
delegateToReal(LiteResponse, RealResponse, 'Response', new RealResponse(null));
Object.setPrototypeOf(LiteResponse, RealResponse);

let installed = 0;

/** Make `new Response(...)` build LiteResponses (reference-counted: one per running server). */
export function installLiteResponse(): () => void {
  if (installed++ === 0) {
    (globalThis as { Response: unknown }).Response = LiteResponse;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--installed === 0) (globalThis as { Response: unknown }).Response = RealResponse;
  };
}

// undici keeps a Response's body source (the string or bytes it was built from) in an internal
// state slot. Reading it spares a stream read (~25 µs for a short body); if a future Node moves
// the slot, `readKnownBody` returns undefined and the server reads the stream as usual.
const kState = Object.getOwnPropertySymbols(new RealResponse(null)).find((s) => s.description === 'state');

interface UndiciBodyState {
  body?: { source?: unknown; stream?: ReadableStream<Uint8Array> } | null;
}

/** The bytes or string a real Response was built from, if it was built from one and is unread. */
export function readKnownBody(res: Response): string | Uint8Array | undefined {
  if (kState === undefined || res.bodyUsed) return undefined;
  const state = (res as unknown as Record<symbol, UndiciBodyState | undefined>)[kState];
  const body = state?.body;
  if (body === null || body === undefined) return undefined;
  const source = body.source;
  if (body.stream !== undefined && body.stream.locked) return undefined;
  if (typeof source === 'string' || source instanceof Uint8Array) return source;
  return undefined;
}

export { RealResponse };

// ---- reading what an app answered ----------------------------------------------------------------

const ASCII = /^[\x00-\x7f]*$/;

/** A response taken apart for the wire; the same shape whether it came from the app or a worker. */
export interface ResponseParts {
  status: number;
  statusText: string;
  /** Fields as the app gave them, flattened: [name, value, ...]; not yet checked. */
  headers: string[];
  /** A body known in full: an ASCII-only string (written as latin1), or bytes. */
  body: string | Uint8Array | null;
  /** A body of unknown length, when `body` is null and the response has one. */
  stream: ReadableStream<Uint8Array> | undefined;
  /** A file to send from disk (src/file-response.ts), when `body` and `stream` are empty. */
  file?: string | undefined;
}

/** Take apart what an app returned, or say in one sentence why it cannot be sent. */
export function readResponse(value: unknown): ResponseParts | string {
  if (!(value instanceof RealResponse)) {
    return `the app returned ${value === null ? 'null' : typeof value}, not a Response`;
  }
  const peek = LiteResponse.isLite(value) ? LiteResponse.peek(value) : undefined;
  if (peek !== undefined) {
    const headers = flattenHeaders(peek.headers);
    let body: string | Uint8Array | null;
    if (typeof peek.body === 'string') {
      if (!hasField(headers, 'content-type')) headers.push('content-type', 'text/plain;charset=UTF-8');
      body = toWireString(peek.body);
    } else {
      body = peek.body instanceof ArrayBuffer ? new Uint8Array(peek.body) : peek.body;
    }
    return { status: peek.status, statusText: peek.statusText, headers, body, stream: undefined };
  }
  const response = LiteResponse.isLite(value) ? value.materialize() : value;
  const file = filePathOf(response);
  if (file !== undefined) {
    return {
      status: response.status,
      statusText: response.statusText,
      headers: flattenHeaders(response.headers),
      body: null,
      stream: undefined,
      file,
    };
  }
  if (response.bodyUsed) return 'the response body was already read';
  const known = readKnownBody(response);
  return {
    status: response.status,
    statusText: response.statusText,
    headers: flattenHeaders(response.headers),
    body: known === undefined ? null : typeof known === 'string' ? toWireString(known) : known,
    stream: known === undefined && response.body !== null ? response.body : undefined,
  };
}

/** A string body as it goes on the wire: itself when ASCII (one latin1 write), else UTF-8 bytes. */
function toWireString(text: string): string | Uint8Array {
  return ASCII.test(text) ? text : Buffer.from(text, 'utf8');
}

export function cancelResponse(response: Response): void {
  if (response.body !== null && !response.body.locked) response.body.cancel().catch(() => {});
}

function hasField(flat: readonly string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i]!.toLowerCase() === name) return true;
  return false;
}

function flattenHeaders(headers: HeadersInitLike | undefined): string[] {
  const flat: string[] = [];
  if (headers === undefined) return flat;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => flat.push(name, value));
  } else if (Array.isArray(headers)) {
    for (const pair of headers as readonly (readonly [string, string])[]) flat.push(String(pair[0]), String(pair[1]));
  } else {
    for (const name of Object.keys(headers)) flat.push(name, String((headers as Record<string, string>)[name]));
  }
  return flat;
}
