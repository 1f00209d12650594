// src/fetch/response.ts: a Response that costs nothing until someone looks inside.
//
// Why: on Node 20 `new Response('Hello')` builds a WHATWG ReadableStream for its body, which
// alone costs ~11 µs (measured here: `new Response(str)` 15-17 µs, `new Response(null)` 0.3 µs);
// node:http serves a whole keep-alive request in ~15 µs. Like @hono/node-server (its
// `overrideGlobalObjects`), serve() replaces `globalThis.Response` with `LiteResponse`, which
// keeps a string/bytes body and its init as they are, passes `instanceof Response`, and turns
// into a real Response the first time anything but status/statusText/ok/headers is touched.
// `overrideGlobalObjects: false` keeps the real one; the server reads both.

import { delegateToReal } from './lazy.js';

const RealResponse: typeof Response = globalThis.Response;

type SimpleBody = string | Uint8Array | ArrayBuffer | null;
type BodyInitLike = ConstructorParameters<typeof Response>[0];
type ResponseInitLike = ConstructorParameters<typeof Response>[1];
type HeadersInitArg = ConstructorParameters<typeof Headers>[0];
export type HeadersInitLike = Headers | readonly (readonly [string, string])[] | Record<string, string>;

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

// What a 101 answer completes, on the answer (and on a LiteResponse copy of it). Symbol.for, as
// fileResponse()'s marker: an app may import its own copy of waitstate.
const kUpgrade = Symbol.for('waitstate.upgrade');

/**
 * A 101 (Switching Protocols) answer that completes `upgrade` (RFC 9110 §15.2.2), for
 * upgradeWebSocket(): the app returns it and the server hands the connection over. Fetch lets no
 * Response be made with a 1xx status, so it is a real Response whose status reads 101, marked
 * for the server. Its headers stay mutable: what the app or a framework adds (Set-Cookie) goes
 * out with the 101.
 */
export function switchingProtocols(upgrade: object, headers: NonNullable<HeadersInitArg>): Response {
  const response = new RealResponse(null, { headers });
  Object.defineProperties(response, {
    status: { value: 101 },
    statusText: { value: 'Switching Protocols' },
    ok: { value: false },
  });
  Object.defineProperty(response, kUpgrade, { value: upgrade });
  return response;
}

/** What a 101 answer of switchingProtocols() completes; undefined for any other value. */
export function upgradeOf(response: unknown): object | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const upgrade = (response as { [kUpgrade]?: unknown })[kUpgrade];
  return typeof upgrade === 'object' && upgrade !== null ? upgrade : undefined;
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
      // A framework that copies a response to add fields (Hono: `new Response(res.body, res)`)
      // copies a 101 too, which Fetch would refuse: the copy completes the same upgrade.
      const upgrade = body === null || body === undefined ? upgradeOf(init) : undefined;
      if (upgrade !== undefined) Object.defineProperty(this, kUpgrade, { value: upgrade });
      this.#real = upgrade !== undefined ? switchingProtocols(upgrade, (init as Response).headers) : new RealResponse(body, init);
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
   * For the server: the headers and a string/bytes body, or undefined once the response has been
   * materialized (then read it as a real Response). The status is read through `status`, which
   * a subclass may override.
   */
  static peek(res: LiteResponse): LitePeek | undefined {
    if (res.#real !== undefined) return undefined;
    return {
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

interface LitePeek {
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

export { RealResponse };
