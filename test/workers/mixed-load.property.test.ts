// Property, over real sockets: a mixed load on one worker pool (requests that answer at once,
// burn CPU, await a timer, or stream with awaits between chunks) pipelined on several connections
// at once. Whatever the mix, every response answers its own request and each connection gets its
// responses in request order (RFC 9112 §9.3.2), although the worker threads run them concurrently
// and out of order.
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { RawClient, startServer, type TestServer } from '../helpers/raw-client.js';

let t: TestServer;
beforeAll(async () => {
  // A small window and concurrency, so that tasks wait, are placed and handed over under load.
  t = await startServer('test/fixtures/worker-app.mjs:app', { threads: 2, dispatchWindow: 2, threadConcurrency: 3 });
});
afterAll(() => t.close());

const genMix = fc.record({
  kind: fc.constantFrom('sync', 'cpu', 'sleep', 'stream'),
  ms: fc.integer({ min: 0, max: 25 }),
});

describe('a mixed load on one worker pool', () => {
  test.prop([fc.array(fc.array(genMix, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 })], { numRuns: 25 })(
    'every response goes to its request, in order per connection',
    async (connections) => {
      const clients = await Promise.all(connections.map(() => RawClient.connect(t.port)));
      try {
        connections.forEach((requests, c) => {
          const bytes = requests
            .map(({ kind, ms }, i) => `GET /mix?kind=${kind}&ms=${ms}&n=${c}.${i} HTTP/1.1\r\nHost: a\r\n\r\n`)
            .join('');
          clients[c]!.write(bytes);
        });
        await Promise.all(
          connections.map(async (requests, c) => {
            for (let i = 0; i < requests.length; i++) {
              const response = await clients[c]!.readResponse({ timeoutMs: 5000 });
              expect([response.status, response.body.toString()]).toEqual([200, `n=${c}.${i};`]);
            }
          }),
        );
      } finally {
        for (const client of clients) client.destroy();
      }
    },
  );
});
