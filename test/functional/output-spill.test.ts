// outbuf_overflow: output a slow client has not taken, beyond the limit, waits in a temp file
// (not memory); it is sent in order once the client reads, and the file is removed.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startServer } from '../helpers/raw-client.js';

let spoolDir: string;
const originalTmp = process.env['TMPDIR'];
beforeAll(() => {
  spoolDir = mkdtempSync(join(tmpdir(), 'waitstate-outspill-test-'));
  process.env['TMPDIR'] = spoolDir;
});
afterAll(() => {
  if (originalTmp === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = originalTmp;
  rmSync(spoolDir, { recursive: true, force: true });
});

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
const until = async (check: () => boolean, ms = 5000) => {
  for (let waited = 0; waited < ms && !check(); waited += 20) await new Promise((r) => setTimeout(r, 20));
  return check();
};

describe('output past outbuf_overflow', () => {
  it('waits on disk for a client that does not read, then arrives whole and in order', async () => {
    const t = await startServer((request) => (new URL(request.url).pathname === '/big' ? new Response(big()) : new Response('after')), {
      outbufOverflow: 256 * 1024,
    });
    const client = await RawClient.connect(t.port);
    client.pause();
    client.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await until(() => readdirSync(spoolDir).length === 1)).toBe(true);
    client.resume();
    const first = await client.readResponse({ timeoutMs: 20_000 });
    expect(first.body.length).toBe(CHUNK * CHUNKS);
    for (let i = 0; i < CHUNKS; i++) expect(first.body[i * CHUNK + 17]).toBe(i % 256);
    expect((await client.readResponse()).body.toString()).toBe('after');
    expect(await until(() => readdirSync(spoolDir).length === 0)).toBe(true);
    client.destroy();
    await t.close();
  });
  it('removes the file when the client goes away', async () => {
    const t = await startServer(() => new Response(big()), { outbufOverflow: 256 * 1024 });
    const client = await RawClient.connect(t.port);
    client.pause();
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(await until(() => readdirSync(spoolDir).length === 1)).toBe(true);
    client.destroy();
    expect(await until(() => readdirSync(spoolDir).length === 0)).toBe(true);
    await t.close();
  });
});
