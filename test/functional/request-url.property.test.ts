// Property over a real socket: whatever Host and target a client sends, the app is called only
// with a request.url the WHATWG URL parser accepts and serialises to itself; any other request is
// answered 400 by the server (RFC 9112 §3.2, RFC 9110 §7.2), never a 500 from the app.
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { exchange, startServer, type TestServer } from '../helpers/raw-client.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer((request) => {
    // new URL() throws for a URL it cannot parse: the app would answer 500.
    const href = new URL(request.url).href;
    return new Response(JSON.stringify({ url: request.url, href }));
  });
});
afterAll(() => t.close());

const hostChar = fc.constantFrom(...'aZx0179.-:[]%fF'.split(''), 'xn--', '0x', '255', '256', '.', '..', ':65535', ':65536', ':0');
const genHost = fc.array(hostChar, { minLength: 0, maxLength: 10 }).map((parts) => parts.join(''));
const genTarget = fc.constantFrom(
  '/',
  '/a?b=1',
  '//evil.test/x',
  '/a/../b',
  '/%2e%2e/c',
  '/\\x',
  '/a b'.replace(' ', '%20'),
  '/é'.replace('é', '%C3%A9'),
);

describe('request.url over a real socket', () => {
  test.prop([genHost, genTarget], { numRuns: 250 })(
    'is one the URL parser accepts as it is, or the request gets 400',
    async (host, target) => {
      const r = await exchange(t.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect([200, 400]).toContain(r.status);
      if (r.status === 200) {
        const { url, href } = JSON.parse(r.body.toString()) as { url: string; href: string };
        expect(href).toBe(url);
      }
    },
  );
});
