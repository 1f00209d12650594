// processes > 1: node:cluster processes share the listeners, each its own server; one that dies
// is replaced; close() closes them all.
import { describe, expect, it } from 'vitest';
import { exchange, RawClient, startServer } from '../helpers/raw-client.js';

const get = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';

async function pids(port: number, connections: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < connections; i++) seen.add((await exchange(port, get)).body.toString());
  return seen;
}

describe('processes (node:cluster)', () => {
  it('serves from several processes on one port, replaces one that dies, and closes them all', async () => {
    const t = await startServer('test/fixtures/pid-app.mjs:app', { processes: 2 });
    const first = await pids(t.port, 12);
    expect(first.size).toBe(2);
    expect(first.has(String(process.pid))).toBe(false);
    const victim = Number([...first][0]);
    process.kill(victim, 'SIGKILL');
    let replaced = new Set<string>();
    for (let i = 0; i < 50 && (replaced.size < 2 || replaced.has(String(victim))); i++) {
      await new Promise((r) => setTimeout(r, 100));
      replaced = await pids(t.port, 6).catch(() => new Set<string>());
    }
    expect(replaced.size).toBe(2);
    expect(replaced.has(String(victim))).toBe(false);
    await t.close();
    await expect(RawClient.connect(t.port)).rejects.toThrow();
  }, 20_000);
  it('needs a module reference', async () => {
    await expect(startServer(() => new Response('x'), { processes: 2 })).rejects.toThrow(/^processes: needs the app as a module reference/);
  });
});
