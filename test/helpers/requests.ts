// test/helpers/requests.ts: generated request sequences for the pipelining properties, with the
// model of what the server must do with them.
import { fc } from '@fast-check/vitest';

export interface GenRequest {
  method: 'GET' | 'HEAD' | 'POST';
  path: string;
  version: '1.0' | '1.1';
  connection: 'close' | 'keep-alive' | undefined;
  body: string;
  chunked: boolean;
  /** How the chunked body is cut into chunks (sizes), with an extension on some. */
  chunkSizes: number[];
  expectContinue: boolean;
  extra: [string, string][];
}

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);

export const genRequest: fc.Arbitrary<GenRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'HEAD', 'POST') as fc.Arbitrary<GenRequest['method']>,
    path: fc.stringMatching(/^\/[a-z0-9/_-]{0,12}(\?[a-z0-9=&]{0,8})?$/),
    version: fc.constantFrom('1.0', '1.1') as fc.Arbitrary<GenRequest['version']>,
    connection: fc.constantFrom('close', 'keep-alive', undefined),
    body: fc.string({ unit: fc.constantFrom(...'abcxyz019 \r\n{}"'.split('')), maxLength: 40 }),
    chunked: fc.boolean(),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 6 }),
    expectContinue: fc.boolean(),
    extra: fc.array(
      fc.tuple(
        token.map((n) => `x-${n}`),
        fc.stringMatching(/^[ -~]{0,12}$/).map((v) => v.trim()),
      ),
      { maxLength: 3 },
    ),
  })
  .map((r) => {
    const hasBody = r.method === 'POST';
    return {
      ...r,
      body: hasBody ? r.body : '',
      // Transfer-Encoding on HTTP/1.0 is refused (RFC 9112 §6.1): the generator sends valid requests.
      chunked: hasBody && r.chunked && r.version === '1.1',
      expectContinue: hasBody && r.expectContinue && r.version === '1.1',
    };
  });

/** The request's bytes on the wire (latin1). */
export function serialize(r: GenRequest, index: number): string {
  let head = `${r.method} ${r.path} HTTP/${r.version}\r\n`;
  if (r.version === '1.1') head += 'Host: test.local\r\n';
  head += `X-Index: ${index}\r\n`;
  for (const [name, value] of r.extra) head += `${name}: ${value}\r\n`;
  if (r.connection !== undefined) head += `Connection: ${r.connection}\r\n`;
  if (r.expectContinue) head += 'Expect: 100-continue\r\n';
  if (r.method !== 'POST') return head + '\r\n';
  if (!r.chunked) return head + `Content-Length: ${Buffer.byteLength(r.body)}\r\n\r\n${r.body}`;
  let body = '';
  let rest = r.body;
  let i = 0;
  while (rest.length > 0) {
    const size = Math.min(rest.length, r.chunkSizes[i % Math.max(1, r.chunkSizes.length)] ?? rest.length);
    body += `${size.toString(16)}${i % 2 === 1 ? ';ext=1' : ''}\r\n${rest.slice(0, size)}\r\n`;
    rest = rest.slice(size);
    i++;
  }
  return head + 'Transfer-Encoding: chunked\r\n\r\n' + body + '0\r\nX-Trailer: t\r\n\r\n';
}

/** RFC 9112 §9.3: does this request end the connection after its response? */
export function closesConnection(r: GenRequest): boolean {
  if (r.connection === 'close') return true;
  return r.version === '1.0' && r.connection !== 'keep-alive';
}

/** Cut a byte string at generated positions. */
export function splitAt(bytes: string, fractions: number[]): string[] {
  const cuts = [...new Set(fractions.map((f) => Math.floor(f * bytes.length)))]
    .filter((c) => c > 0 && c < bytes.length)
    .sort((a, b) => a - b);
  const pieces: string[] = [];
  let last = 0;
  for (const cut of cuts) {
    pieces.push(bytes.slice(last, cut));
    last = cut;
  }
  pieces.push(bytes.slice(last));
  return pieces;
}

export const genCuts = fc.uniqueArray(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });
