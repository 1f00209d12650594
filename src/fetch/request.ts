// src/fetch/request.ts: the Request an app receives, built only as far as the app looks.
//
// Why: `new Request(url, init)` costs ~8 µs on Node 20 and `new Headers()` ~2 µs, while most
// handlers read only `method` and `url` (routers) and maybe a header. `IncomingRequest` keeps the
// parsed head and the fully received body, answers `method`/`url`/`headers` itself, passes
// `instanceof Request`, and builds the real Request the first time anything else is touched
// (signal, cache, …). The same idea as @hono/node-server's request.
//
// The body members (`body`, `bodyUsed`, `text()`, …, `clone()`) are answered here too, because
// Fetch's Request constructor forbids a body on GET and HEAD while HTTP allows one (RFC 9110
// §9.3.1: it has no generally defined semantics, but a server may give it one, as search APIs
// do). Such a body is read through a real Response over the same bytes (the same Body mixin);
// every other body is the real Request's.

import { isSpooled, readSpooled, type RequestBody, type SpooledBody } from './body-buffer.js';
import type { ForwardedClient } from '../http/proxy-headers.js';
import type { RequestHead } from '../http/types.js';

import { delegateToReal } from './lazy.js';
import { RealResponse } from './response.js';

const RealRequest: typeof Request = globalThis.Request;

// Symbol.for, as fileResponse()'s marker: upgradeWebSocket() must find the connection of a request
// made by another copy of waitstate in the same process (an app that imports its own, or built
// and source modules side by side in tests).
const kConnection = Symbol.for('waitstate.connection');

/** The Body mixin's readers, the same on Request and Response (`bytes()` only where Node has it). */
const BODY_READERS = ['arrayBuffer', 'blob', 'bytes', 'formData', 'json', 'text'] as const;

// The fast path of requestUrl: a URL made of a plain authority and a plain target by concatenation
// is already what the WHATWG URL parser would make of it (`new URL(u).href === u`); anything else
// is left to the parser.
// Plain target: origin-form made only of characters the parser keeps as they are (it
// percent-encodes others), with no dot-segment, which it would resolve (RFC 3986 §5.2.4), nor a
// `%2e`, which it reads as a dot.
const PLAIN_TARGET = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*$/;
const DOT_SEGMENT = /\/\.|%2e/i;
// Plain authority: the hosts the parser keeps as they are, with a port in range (RFC 9110 §7.2,
// RFC 3986 §3.2.3, WHATWG URL "host parsing"):
// - an IPv4 address in canonical dotted-decimal (four octets 0-255, no leading zero);
// - a lower-case name whose last label starts with a letter: a name whose last label is all
//   digits or 0x-hex "ends in a number" and is parsed (or refused) as IPv4 (`127.1`, `example.0`);
//   a name with an `xn--` label is checked as punycode (isPlainAuthority wants `xn--` nowhere);
// - a port 1-65535 without leading zero, other than the scheme's default one (which is dropped).
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const PORT = '(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
const PLAIN_AUTHORITY = new RegExp(`^(?:${OCTET}(?:\\.${OCTET}){3}|(?:[a-z0-9-]*\\.)*[a-z][a-z0-9-]*)(?::${PORT})?$`);

/**
 * Absolute URL of a request (RFC 9112 §3.3), or undefined when it is not a valid URL; what the
 * WHATWG URL parser makes of it, so `new URL(url).href === url`. Undefined for an origin-form or
 * asterisk-form target means the authority (the Host) is at fault: such a target always parses. With a
 * `urlPrefix` (already normalised to `/x`), an origin-form path loses it as Waitress's PATH_INFO
 * does: leading slashes collapse to one; the path equal to the prefix becomes `/`; a path that
 * continues it with `/` loses it; any other path stays whole (`/apple` under `/app`). With
 * `forwarded` (a trusted proxy's word), `scheme` is the client's and `head.host` its Host.
 */
export function requestUrl(
  head: RequestHead,
  scheme: string,
  fallbackAuthority: string,
  urlPrefix = '',
  forwarded?: ForwardedClient,
): string | undefined {
  const { targetForm } = head;
  const target = urlPrefix !== '' && targetForm === 'origin' ? stripUrlPrefix(head.target, urlPrefix) : head.target;
  if (targetForm === 'absolute') {
    const url = parseUrl(target);
    if (forwarded === undefined || url === undefined) return url;
    // What a trusted proxy says the client asked for beats the target's scheme and authority.
    const { host, pathname, search } = new URL(url);
    return parseUrl(`${scheme}://${forwarded.authority ?? host}${pathname}${search}`);
  }
  const authority = head.host === undefined || head.host === '' ? fallbackAuthority : head.host;
  if (targetForm === 'authority') return parseUrl(`${scheme}://${target}`);
  const base = `${scheme}://${authority}`;
  if (targetForm === 'asterisk') return parseUrl(`${base}/*`);
  if (isPlainTarget(target) && isPlainAuthority(scheme, authority)) return base + target;
  // RFC 9112 §3.3: the target URI is the authority followed by the origin-form as it is. Never
  // resolve the target against the base: `//evil.test/x` (or `/\evil.test/x`) would become the
  // authority.
  return parseUrl(base + target);
}

function stripUrlPrefix(target: string, prefix: string): string {
  const queryAt = target.indexOf('?');
  const query = queryAt === -1 ? '' : target.slice(queryAt);
  const path = '/' + (queryAt === -1 ? target : target.slice(0, queryAt)).replace(/^\/+/, '');
  if (path === prefix) return '/' + query;
  if (path.startsWith(prefix + '/')) return path.slice(prefix.length) + query;
  return path + query;
}

function isPlainTarget(target: string): boolean {
  return PLAIN_TARGET.test(target) && !DOT_SEGMENT.test(target);
}

function isPlainAuthority(scheme: string, authority: string): boolean {
  return PLAIN_AUTHORITY.test(authority) && !authority.includes('xn--') && !isDefaultPort(scheme, authority);
}

function isDefaultPort(scheme: string, authority: string): boolean {
  return (scheme === 'http' && authority.endsWith(':80')) || (scheme === 'https' && authority.endsWith(':443'));
}

/** What the WHATWG URL parser makes of an absolute URL, or undefined when it refuses it. */
function parseUrl(input: string): string | undefined {
  try {
    return new URL(input).href;
  } catch {
    return undefined;
  }
}

/**
 * What of the head the app's Request needs (all that crosses to a worker thread). A RequestHead
 * is one as it is, so the inline path allocates nothing to make it.
 */
export interface AppHead {
  readonly method: string;
  /** The request line's version (RFC 9112 §2.3): upgradeWebSocket() reads it. */
  readonly version: RequestHead['version'];
  readonly headers: string[];
  /** Only whether the body came chunked matters: the app then sees a Content-Length instead. */
  readonly framing: { readonly kind: RequestHead['framing']['kind'] };
}

/** Header pairs as the app sees them: chunked framing replaced by the decoded Content-Length. */
function appHeaderPairs(head: AppHead, body: RequestBody): [string, string][] {
  const flat = head.headers;
  const pairs: [string, string][] = [];
  const chunked = head.framing.kind === 'chunked';
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    if (chunked && (name === 'transfer-encoding' || name === 'content-length')) continue;
    pairs.push([name, flat[i + 1]!]);
  }
  if (chunked) pairs.push(['content-length', String(bodySize(body))]);
  return pairs;
}

function bodySize(body: RequestBody): number {
  return body === null ? 0 : isSpooled(body) ? body.size : body.byteLength;
}

/** What a Request or Response is built over: the bytes, or a body past inbuf_overflow read back from its temp file. */
function bodySource(body: Uint8Array | SpooledBody): Uint8Array | ReadableStream<Uint8Array> {
  return isSpooled(body) ? readSpooled(body) : body;
}

/** Fetch's Request constructor rejects any body with these methods (Fetch standard, `new Request()`). */
function fetchForbidsBody(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

export class IncomingRequest {
  readonly #head: AppHead;
  readonly #url: string;
  readonly #body: RequestBody;
  #headers: Headers | undefined;
  #real: Request | undefined;
  /** The reader of a body the real Request cannot carry (GET, HEAD): a Response over the same bytes. */
  #ownBody: Response | undefined;
  /** Created with the real Request; aborted when the client goes away (`request.signal`). */
  #abort: AbortController | undefined;
  #gone = false;
  /**
   * What answers this request on its connection, for upgradeWebSocket(): the task inline, the
   * call in a worker thread. Opaque here: src/websocket/ names what it does.
   */
  readonly [kConnection]: object | undefined;

  constructor(head: AppHead, url: string, body: RequestBody, connection?: object) {
    this.#head = head;
    this.#url = url;
    this.#body = body;
    this[kConnection] = connection;
  }

  /** What answers a request this server made, for upgradeWebSocket(); undefined for any other value. */
  static connectionOf(request: unknown): object | undefined {
    if (typeof request !== 'object' || request === null) return undefined;
    const connection = (request as { [kConnection]?: unknown })[kConnection];
    return typeof connection === 'object' && connection !== null ? connection : undefined;
  }

  get method(): string {
    return this.#head.method;
  }
  get url(): string {
    return this.#url;
  }
  get headers(): Headers {
    if (this.#real !== undefined) return this.#real.headers;
    this.#headers ??= new Headers(appHeaderPairs(this.#head, this.#body));
    return this.#headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#bodyHolder().body;
  }
  get bodyUsed(): boolean {
    return this.#bodyHolder().bodyUsed;
  }

  clone(): Request {
    const holder = this.#bodyHolder();
    if (holder !== this.#ownBody) return this.materialize().clone();
    if (holder.bodyUsed) throw new TypeError('Request.clone: Body has already been consumed.');
    const copy = new IncomingRequest(this.#head, this.#url, this.#body, this[kConnection]);
    // The real Request's clone brings copied headers and a signal that follows this one's.
    copy.#real = this.materialize().clone();
    copy.#ownBody = holder.clone();
    return copy as unknown as Request;
  }

  static {
    for (const name of BODY_READERS) {
      if (!(name in RealRequest.prototype)) continue;
      Object.defineProperty(IncomingRequest.prototype, name, {
        configurable: true,
        writable: true,
        value(this: IncomingRequest): Promise<unknown> {
          // `bytes` is missing from Node 20's type declarations, though Node 20 has it.
          const holder = this.#bodyHolder() as unknown as Record<(typeof BODY_READERS)[number], () => Promise<unknown>>;
          return holder[name]();
        },
      });
    }
  }

  /** What holds the body: the real Request, or for a GET/HEAD that came with one, a Response over it. */
  #bodyHolder(): Request | Response {
    if (this.#ownBody !== undefined) return this.#ownBody;
    const body = this.#body;
    // An empty body is no body for GET/HEAD: `request.body` stays null, as for one without framing.
    if (body === null || !fetchForbidsBody(this.#head.method) || bodySize(body) === 0) return this.materialize();
    // The Content-Type decides formData()'s parsing and blob()'s type, as on a Request.
    const type = this.headers.get('content-type');
    this.#ownBody = new RealResponse(bodySource(body), type === null ? undefined : { headers: [['content-type', type]] });
    return this.#ownBody;
  }

  /** The real Request, built on first use of anything this class does not answer itself. */
  materialize(): Request {
    if (this.#real === undefined) {
      const method = this.#head.method;
      this.#abort = new AbortController();
      if (this.#gone) this.#abort.abort();
      const init: RequestInit & { duplex?: 'half' } = { method, headers: this.headers, signal: this.#abort.signal };
      // A GET/HEAD body stays out of it (Fetch would throw): #bodyHolder reads that one.
      const body = this.#body;
      if (body !== null && !fetchForbidsBody(method)) {
        init.body = bodySource(body);
        if (isSpooled(body)) init.duplex = 'half';
      }
      this.#real = new RealRequest(this.#url, init);
    }
    return this.#real;
  }

  /** The client went away: `request.signal` aborts (now, or when the app first looks at it). */
  clientGone(): void {
    this.#gone = true;
    this.#abort?.abort();
  }
}

delegateToReal(IncomingRequest, RealRequest, 'Request', new RealRequest('http://localhost/'));
