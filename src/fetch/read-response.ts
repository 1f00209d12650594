// src/fetch/read-response.ts: the one place where the server reads what an app answered, a
// LiteResponse, a real Response or a file response alike, into the parts that go on the wire.

import { AppResponseError } from '../errors.js';
import { filePathOf } from './file-response.js';
import { LiteResponse, RealResponse, type HeadersInitLike } from './response.js';

// undici keeps a Response's body source (the string or bytes it was built from) in an internal
// state slot. Reading it spares a stream read (~25 µs for a short body); if a future Node moves
// the slot, `readKnownBody` returns undefined and the server reads the stream as usual.
const kState = Object.getOwnPropertySymbols(new RealResponse(null)).find((s) => s.description === 'state');

interface UndiciBodyState {
  body?: { source?: unknown; stream?: ReadableStream<Uint8Array> } | null;
}

/** The bytes or string a real Response was built from, if it was built from one and is unread. */
function readKnownBody(res: Response): string | Uint8Array | undefined {
  if (kState === undefined || res.bodyUsed) return undefined;
  const state = (res as unknown as Record<symbol, UndiciBodyState | undefined>)[kState];
  const body = state?.body;
  if (body === null || body === undefined) return undefined;
  const source = body.source;
  if (body.stream !== undefined && body.stream.locked) return undefined;
  if (typeof source === 'string' || source instanceof Uint8Array) return source;
  return undefined;
}

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
  /** A file to send from disk (src/fetch/file-response.ts), when `body` and `stream` are empty. */
  file?: string | undefined;
}

/** Take apart what an app returned, or say why it cannot be sent; never throws. */
export function readResponse(value: unknown): ResponseParts | AppResponseError {
  if (!(value instanceof RealResponse)) {
    // An app returned where a Response was due: what is served makes apps (a factory to call once).
    if (typeof value === 'function') return new AppResponseError('factory', 'the app returned a function, not a Response');
    if (value !== null && typeof value === 'object' && typeof (value as { fetch?: unknown }).fetch === 'function') {
      return new AppResponseError('factory', 'the app returned an app (an object with a fetch method), not a Response');
    }
    return new AppResponseError('notAResponse', `the app returned ${value === null ? 'null' : typeof value}, not a Response`);
  }
  try {
    return partsOf(value);
  } catch (error) {
    // A Response subclass whose getters throw, say.
    return new AppResponseError('unreadable', `the response could not be read: ${String(error)}`, { cause: error });
  }
}

function partsOf(value: Response): ResponseParts | AppResponseError {
  // The status as the app's object says it: a subclass's getter wins over what its constructor
  // kept (RFC 9110 §15: a status outside 200-599 must reach the server's check, LiteResponse or not).
  const { status, statusText } = value;
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
    return { status, statusText, headers, body, stream: undefined };
  }
  const response = LiteResponse.isLite(value) ? value.materialize() : value;
  const file = filePathOf(response);
  if (file !== undefined) {
    return { status, statusText, headers: flattenHeaders(response.headers), body: null, stream: undefined, file };
  }
  if (response.bodyUsed) return new AppResponseError('bodyUsed', 'the response body was already read');
  const known = readKnownBody(response);
  return {
    status,
    statusText,
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
