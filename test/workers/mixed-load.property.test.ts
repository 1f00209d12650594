// Property, over real sockets: a mixed load on one worker pool (requests that answer at once,
// burn CPU, await a timer, or stream with awaits between chunks, some with bodies) pipelined on
// several connections at once, some sent by slow clients that trickle their bytes. Whatever the
// mix, every response answers its own request and each connection gets its responses in request
// order (RFC 9112 §9.3.2), although the worker threads run them concurrently and out of order.
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
  bodyBytes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 })),
});

/** A slow client: its bytes go out `pieceBytes` at a time, `everyMs` apart. */
const genPace = fc.option(fc.record({ pieceBytes: fc.integer({ min: 8, max: 64 }), everyMs: fc.integer({ min: 0, max: 2 }) }), {
  nil: undefined,
});

const genConnection = fc.record({ requests: fc.array(genMix, { minLength: 1, maxLength: 6 }), pace: genPace });

type Mix = { kind: string; ms: number; bodyBytes: number };

function requestBytes({ kind, ms, bodyBytes }: Mix, n: string): string {
  const target = `/mix?kind=${kind}&ms=${ms}&n=${n}`;
  if (bodyBytes === 0) return `GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`;
  return `POST ${target} HTTP/1.1\r\nHost: a\r\nContent-Length: ${bodyBytes}\r\n\r\n${'b'.repeat(bodyBytes)}`;
}

async function send(client: RawClient, bytes: string, pace: { pieceBytes: number; everyMs: number } | undefined): Promise<void> {
  if (pace === undefined) {
    client.write(bytes);
    return;
  }
  for (let at = 0; at < bytes.length; at += pace.pieceBytes) {
    client.write(bytes.slice(at, at + pace.pieceBytes));
    await new Promise((r) => setTimeout(r, pace.everyMs));
  }
}

describe('a mixed load on one worker pool', () => {
  test.prop([fc.array(genConnection, { minLength: 1, maxLength: 4 })], { numRuns: 25 })(
    'every response goes to its request, in order per connection, from fast and slow clients alike',
    async (connections) => {
      const clients = await Promise.all(connections.map(() => RawClient.connect(t.port)));
      try {
        await Promise.all(
          connections.map(async ({ requests, pace }, c) => {
            const bytes = requests.map((mix, i) => requestBytes(mix, `${c}.${i}`)).join('');
            const sending = send(clients[c]!, bytes, pace);
            for (let i = 0; i < requests.length; i++) {
              const response = await clients[c]!.readResponse({ timeoutMs: 5000 });
              expect([response.status, response.body.toString()]).toEqual([200, `n=${c}.${i};`]);
            }
            await sending;
          }),
        );
      } finally {
        for (const client of clients) client.destroy();
      }
    },
  );
});
