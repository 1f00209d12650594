// test/http/helpers.ts: small shared helpers for the codec tests (not a test file itself).
import { expect } from 'vitest';
import { parseHead } from '../../src/http/head.js';
import type { HeadLimits, HeadResult, HttpError, RequestHead } from '../../src/http/types.js';

export const LIMITS: HeadLimits = { maxHeaderBytes: 8192, maxBodyBytes: 1_000_000 };

/** Bytes of a latin1 string: each char becomes one octet, so "\xff" is the octet 0xFF. */
export function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

export function parse(s: string, limits: HeadLimits = LIMITS): HeadResult {
  return parseHead(bytes(s), 0, limits);
}

/** Parse and insist on a complete head; returns it for further assertions. */
export function head(s: string, limits: HeadLimits = LIMITS): RequestHead {
  const r = parse(s, limits);
  if (r.kind !== 'head') throw new Error(`expected a head, got ${JSON.stringify(r)}`);
  return r.head;
}

/** Assert an error result with exactly this status and code. */
export function expectError(r: { readonly kind: string; readonly error?: HttpError }, expected: HttpError): void {
  expect(r.kind).toBe('error');
  expect({ status: r.error?.status, code: r.error?.code }).toEqual({ status: expected.status, code: expected.code });
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
