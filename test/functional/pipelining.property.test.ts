// Property (2), model-based over a real socket: random sequences of 1-20 requests (GET, HEAD,
// POST; Content-Length or chunked bodies; HTTP/1.0 and 1.1; Connection close/keep-alive;
// Expect: 100-continue) written in random chunks. Responses come back in order, each answers
// its own request, and the connection closes exactly after the first request that asks for it.
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { RawClient, startServer, type TestServer } from '../helpers/raw-client.js';
import { closesConnection, genCuts, genRequest, serialize, splitAt } from '../helpers/requests.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer(async (request) => {
    const body = request.method === 'POST' ? await request.text() : '';
    return new Response(JSON.stringify({ index: request.headers.get('x-index'), method: request.method, body }));
  });
});
afterAll(() => t.close());

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('pipelined request sequences against a model (RFC 9112 §9.3, §9.3.2)', () => {
  test.prop([fc.array(genRequest, { minLength: 1, maxLength: 20 }), genCuts], { numRuns: 40 })(
    'responses in order, each matching its request; close exactly after the first closing request',
    async (requests, cuts) => {
      const client = await RawClient.connect(t.port);
      try {
        for (const piece of splitAt(requests.map(serialize).join(''), cuts)) {
          if (client.ended) break;
          client.write(piece);
          await tick();
        }
        const closer = requests.findIndex(closesConnection);
        const served = closer === -1 ? requests.length : closer + 1;
        for (let i = 0; i < served; i++) {
          const request = requests[i]!;
          let response = await client.readResponse({ forHead: request.method === 'HEAD' });
          if (response.status === 100) {
            // Allowed only for a request that asked for it (RFC 9110 §10.1.1).
            expect(request.expectContinue).toBe(true);
            response = await client.readResponse({ forHead: request.method === 'HEAD' });
          }
          expect(response.status).toBe(200);
          if (request.method !== 'HEAD') {
            expect(JSON.parse(response.body.toString('utf8'))).toEqual({ index: String(i), method: request.method, body: request.body });
          }
          const closes = closesConnection(request);
          expect(response.header('connection') === 'close').toBe(closes);
          if (request.version === '1.0' && !closes) expect(response.header('connection')).toBe('keep-alive');
        }
        if (closer !== -1) {
          expect(await client.expectClosed()).toEqual({ closed: true, extra: '' });
        } else {
          expect(await client.settle(5)).toBe('');
          expect(client.ended).toBe(false);
        }
      } finally {
        client.destroy();
      }
    },
  );
});
