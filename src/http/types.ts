// src/http/types.ts: the vocabulary of the sans-I/O HTTP/1.1 codec.
// Rules of this folder: no `node:` imports, no sockets, no timers, nothing of ours from outside
// src/http/. Functions take bytes (Uint8Array/Buffer) and return results as data; the hot path
// never throws for bad input, it returns `{ kind: 'error', error }`.

export type HttpVersion = '1.0' | '1.1';

/** A request we can refuse on the wire. `reason` is one sentence that ends with its RFC section. */
export interface HttpError {
  readonly status: 400 | 408 | 413 | 431 | 501 | 505;
  /** Stable machine-readable code (branch on this, never on the text). */
  readonly code: string;
  readonly reason: string;
}

/** How the request body is delimited (RFC 9112 §6.3). */
export type BodyFraming = { readonly kind: 'none' } | { readonly kind: 'length'; readonly length: number } | { readonly kind: 'chunked' };

/** The four forms of request-target (RFC 9112 §3.2). */
export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

export interface RequestHead {
  readonly method: string;
  /** The request-target exactly as sent (visible ASCII only). */
  readonly target: string;
  readonly targetForm: TargetForm;
  readonly version: HttpVersion;
  /**
   * Field lines, flattened: [name, value, name, value, ...]. Names are lower-cased; values have
   * their surrounding SP/HTAB removed and each obs-fold replaced by one SP. Names containing `_`
   * are dropped (Waitress). Framing fields (Transfer-Encoding) are kept as sent; the shell
   * rewrites them for the app.
   */
  readonly headers: string[];
  /** The one Host field value, validated; undefined when the request has none (HTTP/1.0). */
  readonly host: string | undefined;
  readonly framing: BodyFraming;
  /** Persistence asked for by the request alone (RFC 9112 §9.3): version + Connection tokens. */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` on an HTTP/1.1 request that has a body (RFC 9110 §10.1.1). */
  readonly expectsContinue: boolean;
}

export type HeadResult =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'head'; readonly head: RequestHead; readonly consumed: number }
  | { readonly kind: 'error'; readonly error: HttpError };

export interface HeadLimits {
  /** A head (request line + fields + CRLFCRLF, leading empty lines included) larger than this → 431. */
  readonly maxHeaderBytes: number;
  /** A Content-Length larger than this → 413 before any body byte is read. */
  readonly maxBodyBytes: number;
}

export type ChunkedResult =
  | { readonly kind: 'need-more'; readonly consumed: number }
  | { readonly kind: 'done'; readonly consumed: number }
  | { readonly kind: 'error'; readonly error: HttpError };

/** How a response body is delimited on the wire (RFC 9112 §6.3, from the server's side). */
export type ResponseFraming =
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  /** HTTP/1.0 with unknown length: the body ends when the connection closes. */
  | { readonly kind: 'close' }
  /** 1xx/204/304, or a HEAD whose GET length is unknown: no body and no framing fields at all. */
  | { readonly kind: 'none' };
