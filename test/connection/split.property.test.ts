// Property (1): any split of a valid pipelined byte stream into chunks parses to the same
// requests, and the channel answers them the same way. Channels run over an in-memory socket so
// the splits land exactly where fast-check puts them.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { Channel } from '../../src/connection/channel.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { channelConfig } from '../helpers/channel-config.js';
import { closesConnection, genCuts, genRequest, serialize, splitAt, type GenRequest } from '../helpers/requests.js';
import type { FetchHandler } from '../../src/app.js';

interface Seen {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function run(
  pieces: string[],
  expected: number,
  runtime: 'compiled' | 'xstate',
): Promise<{ seen: Seen[]; output: string; closed: boolean }> {
  const seen: Seen[] = [];
  const app: FetchHandler = async (request) => {
    const body = request.method === 'POST' ? await request.text() : '';
    seen.push({ method: request.method, url: request.url, headers: [...request.headers], body });
    return new Response(`${request.method} ${request.url} ${body}`);
  };
  let closed = false;
  const config = channelConfig(app, { machineRuntime: runtime }, () => void (closed = true));
  const socket = new FakeSocket();
  new Channel(socket.asSocket(), config);
  for (const piece of pieces) {
    if (socket.ended || socket.destroyed) break;
    socket.feed(piece);
    await tick();
  }
  for (let i = 0; i < 50 && seen.length < expected; i++) await tick();
  for (let i = 0; i < 5; i++) await tick();
  const output = socket
    .output()
    .replaceAll('HTTP/1.1 100 Continue\r\n\r\n', '')
    .replace(/Date: [^\r]*/g, 'Date: -');
  return { seen, output, closed };
}

/** How many requests of a sequence are served: up to and including the first that closes. */
function servedCount(requests: GenRequest[]): number {
  const i = requests.findIndex(closesConnection);
  return i === -1 ? requests.length : i + 1;
}

describe('split invariance (pipelined streams cut at arbitrary byte boundaries)', () => {
  test.prop([fc.array(genRequest, { minLength: 1, maxLength: 8 }), genCuts], { numRuns: 60 })(
    'any split parses to the same requests and the same responses',
    async (requests, cuts) => {
      const bytes = requests.map(serialize).join('');
      const expected = servedCount(requests);
      const whole = await run([bytes], expected, 'compiled');
      const split = await run(splitAt(bytes, cuts), expected, 'compiled');
      expect(split.seen).toEqual(whole.seen);
      expect(split.output).toEqual(whole.output);
      // And the model: exactly the served prefix, each as generated.
      expect(whole.seen.map((s) => [s.method, new URL(s.url).pathname + new URL(s.url).search, s.body])).toEqual(
        requests.slice(0, expected).map((r) => [r.method, r.path.replace(/\?$/, ''), r.body]),
      );
      expect(whole.closed).toBe(expected < requests.length || closesConnection(requests[requests.length - 1]!));
    },
  );

  test.prop([fc.array(genRequest, { minLength: 1, maxLength: 4 })], { numRuns: 15 })(
    'byte-at-a-time feeding gives the same result, under both interpreters',
    async (requests) => {
      const bytes = requests.map(serialize).join('');
      const expected = servedCount(requests);
      const whole = await run([bytes], expected, 'compiled');
      const single = await run(bytes.split(''), expected, 'compiled');
      const actors = await run(bytes.split(''), expected, 'xstate');
      expect(single.seen).toEqual(whole.seen);
      expect(single.output).toEqual(whole.output);
      expect(actors.seen).toEqual(whole.seen);
      expect(actors.output).toEqual(whole.output);
    },
  );
});
