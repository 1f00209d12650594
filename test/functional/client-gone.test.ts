// request.signal aborts when the client goes away while the app is still working, inline and in
// a worker thread, so an app can stop work nobody will read. "Goes away" means a reset: a FIN
// alone cannot be told from a client that half-closed after its request and still reads the
// response (RFC 9112 §9.6), which is answered as usual.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawClient, startServer } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';

describe('request.signal', () => {
  it('aborts for an inline app when the client resets the connection', async () => {
    let outcome = '';
    const t = await startServer(async (request) => {
      await new Promise((resolve) => {
        request.signal.addEventListener('abort', resolve);
        setTimeout(resolve, 3000);
      });
      outcome = request.signal.aborted ? 'aborted' : 'timeout';
      return new Response('late');
    });
    const client = await RawClient.connect(t.port);
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    client.socket.resetAndDestroy();
    expect(await until(() => outcome !== '')).toBe(true);
    expect(outcome).toBe('aborted');
    await t.close();
  });
  it('aborts for an app in a worker thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitstate-abort-'));
    const mark = join(dir, 'mark');
    const t = await startServer('test/fixtures/worker-app.mjs:app', { threads: 1 });
    const client = await RawClient.connect(t.port);
    client.write(`GET /abort-probe?mark=${encodeURIComponent(mark)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 150));
    client.socket.resetAndDestroy();
    expect(await until(() => existsSync(mark))).toBe(true);
    expect(readFileSync(mark, 'utf8')).toBe('aborted');
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  it('does not abort for a client that only half-closes after its request', async () => {
    let outcome = '';
    const t = await startServer(async (request) => {
      await new Promise((r) => setTimeout(r, 100));
      outcome = request.signal.aborted ? 'aborted' : 'kept';
      return new Response('ok');
    });
    const client = await RawClient.connect(t.port);
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    client.end();
    expect((await client.readResponse()).body.toString()).toBe('ok');
    expect(outcome).toBe('kept');
    await t.close();
  });
});
