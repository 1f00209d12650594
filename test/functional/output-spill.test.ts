// outbuf_overflow: output a slow client has not taken, beyond the limit, waits in a temp file
// (not memory); it is sent in order once the client reads, and the file is removed.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RawClient, startServer } from '../helpers/raw-client.js';
import { until, watchedTmpdir } from '../helpers/wait.js';

const spoolDir = watchedTmpdir('waitstate-outspill-test-');

const CHUNK = 64 * 1024;
const CHUNKS = 160; // 10 MiB
function big(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === CHUNKS) return controller.close();
      controller.enqueue(new Uint8Array(CHUNK).fill(sent % 256));
      sent++;
    },
  });
}
describe('output past outbuf_overflow', () => {
  it('waits on disk for a client that does not read, then arrives whole and in order', async () => {
    const t = await startServer((request) => (new URL(request.url).pathname === '/big' ? new Response(big()) : new Response('after')), {
      outbufOverflow: 256 * 1024,
    });
    const client = await RawClient.connect(t.port);
    client.pause();
    client.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await until(() => readdirSync(spoolDir()).length === 1)).toBe(true);
    client.resume();
    const first = await client.readResponse({ timeoutMs: 20_000 });
    expect(first.body.length).toBe(CHUNK * CHUNKS);
    for (let i = 0; i < CHUNKS; i++) expect(first.body[i * CHUNK + 17]).toBe(i % 256);
    expect((await client.readResponse()).body.toString()).toBe('after');
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    client.destroy();
    await t.close();
  });
  it('removes the file when the client goes away', async () => {
    const t = await startServer(() => new Response(big()), { outbufOverflow: 256 * 1024 });
    const client = await RawClient.connect(t.port);
    client.pause();
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await until(() => readdirSync(spoolDir()).length === 1)).toBe(true);
    client.destroy();
    expect(await until(() => readdirSync(spoolDir()).length === 0)).toBe(true);
    await t.close();
  });
});
