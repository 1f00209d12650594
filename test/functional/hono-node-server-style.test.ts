// serve() called as @hono/node-server's serve() is: serve({ fetch, port, hostname }, callback),
// serve(app), server.close() on what it returned; what cannot be honoured is an OptionError; and
// waitstate's own serve(app, options) unchanged beside it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { OptionError, serve, type ListeningInfo } from '../../src/index.js';
import { readServeCall } from '../../src/server/serve-call.js';
import { exchange, quietLogger, RawClient } from '../helpers/raw-client.js';

const GET = 'GET /hello/hono HTTP/1.1\r\nHost: a\r\n\r\n';

function helloApp(): Hono {
  return new Hono().get('/hello/:name', (c) => c.text(`Hello, ${c.req.param('name')}!`));
}

/** The callback's calls, and a promise of the first. */
function listening(): { calls: ListeningInfo[]; first: Promise<ListeningInfo>; callback: (info: ListeningInfo) => void } {
  const calls: ListeningInfo[] = [];
  let resolve!: (info: ListeningInfo) => void;
  const first = new Promise<ListeningInfo>((r) => (resolve = r));
  return {
    calls,
    first,
    callback: (info) => {
      calls.push(info);
      resolve(info);
    },
  };
}

async function refused(port: number): Promise<boolean> {
  return RawClient.connect(port).then(
    (client) => {
      client.destroy();
      return false;
    },
    () => true,
  );
}

describe("@hono/node-server's calling style", () => {
  it('serve({ fetch: app.fetch, port: 0, hostname }, callback): the callback gets the bound address once, and requests work', async () => {
    const seen = listening();
    const server = serve({ fetch: helloApp().fetch, port: 0, hostname: '127.0.0.1', logger: quietLogger }, seen.callback);
    const info = await seen.first;
    expect(info).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(info.port).toBeGreaterThan(0);
    expect(info.url).toBe(`http://127.0.0.1:${info.port}`);
    const r = await exchange(info.port, GET);
    expect([r.status, r.body.toString()]).toEqual([200, 'Hello, hono!']);
    expect((await server).addresses[0]!.port).toBe(info.port);
    await server.close();
    expect(seen.calls).toHaveLength(1);
    expect(await refused(info.port)).toBe(true);
  });

  it('honours hostname (an IPv6 address here), and takes waitstate options in the same object', async () => {
    const seen = listening();
    const server = serve(
      { fetch: () => new Response('six'), port: 0, hostname: '::1', ident: 'hono-style', logger: quietLogger },
      seen.callback,
    );
    const info = await seen.first;
    expect(info).toMatchObject({ address: '::1', family: 'IPv6', url: `http://[::1]:${info.port}` });
    expect(await refused(info.port)).toBe(true); // not on 127.0.0.1
    const client = await RawClient.connect(info.port, '::1');
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const r = await client.readResponse();
    client.destroy();
    expect([r.body.toString(), r.header('server')]).toEqual(['six', 'hono-style']);
    await server.close();
  });

  it('serve(app, callback) with an app object: its fetch is the handler, bound to it, and its port and hostname are read', async () => {
    // A class instance, as a Hono app is: only @hono/node-server's keys are read from it.
    class Greeter {
      readonly port = 0;
      readonly hostname = '127.0.0.1';
      readonly greeting = 'from this';
      readonly anything = 'else, not an option';
      fetch() {
        return new Response(this.greeting);
      }
    }
    const seen = listening();
    const server = serve(new Greeter(), seen.callback);
    const info = await seen.first;
    expect((await exchange(info.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n')).body.toString()).toBe('from this');
    await server.close();
  });

  it('the port defaults to 3000, as in @hono/node-server, unless one is given or listen, unixSocket or sockets place it', () => {
    const app = helloApp();
    expect(readServeCall(app, undefined, []).options).toEqual({ port: 3000 });
    expect(readServeCall({ fetch: app.fetch }, () => {}, []).options).toEqual({ port: 3000 });
    expect(readServeCall({ fetch: app.fetch, port: 8787 }, undefined, []).options).toEqual({ port: 8787 });
    expect(readServeCall({ fetch: app.fetch, hostname: '::1' }, undefined, []).options).toEqual({ port: 3000, host: '::1' });
    expect(readServeCall({ fetch: app.fetch, listen: ['127.0.0.1:0'] }, undefined, []).options).toEqual({ listen: ['127.0.0.1:0'] });
    expect(readServeCall({ fetch: app.fetch, unixSocket: '/tmp/s' }, undefined, []).options).toEqual({ unixSocket: '/tmp/s' });
    // waitstate's own style keeps its own default (8080, in resolveOptions).
    expect(readServeCall(app, {}, []).options).toEqual({});
    expect(readServeCall(() => new Response(), undefined, []).options).toEqual({});
  });

  it('what serve() returns closes as a node server does: server.close() at once closes once listening', async () => {
    const server = serve({ fetch: () => new Response('x'), port: 0, hostname: '127.0.0.1', logger: quietLogger });
    await server.close();
    const handle = await server;
    expect(await refused(handle.addresses[0]!.port)).toBe(true);

    const seen = listening();
    const again = serve({ fetch: () => new Response('x'), port: 0, hostname: '127.0.0.1', logger: quietLogger }, seen.callback);
    const port = (await seen.first).port;
    const closedWith = await new Promise<Error | undefined>((resolve) => void again.close(resolve));
    expect(closedWith).toBeUndefined();
    expect(await refused(port)).toBe(true);
  });

  it("a failed start-up reaches close's callback, or rejects close() without one; the listening callback is never called", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    const seen = listening();
    const server = serve({ fetch: () => new Response('x'), port, hostname: '127.0.0.1', logger: quietLogger }, seen.callback);
    const closedWith = await new Promise<Error | undefined>((resolve) => void server.close(resolve));
    expect(closedWith?.message).toMatch(/EADDRINUSE/);
    await expect(server).rejects.toThrow(/EADDRINUSE/);
    await expect(server.close()).rejects.toThrow(/EADDRINUSE/);
    expect(seen.calls).toHaveLength(0);
    busy.close();
  });

  it('overrideGlobalObjects maps to waitstate option of that name; autoCleanupIncoming: true is what waitstate does', async () => {
    const before = globalThis.Response;
    const seen = listening();
    const server = serve(
      {
        fetch: () => new Response('x'),
        port: 0,
        hostname: '127.0.0.1',
        overrideGlobalObjects: false,
        autoCleanupIncoming: true,
        logger: quietLogger,
      },
      seen.callback,
    );
    const info = await seen.first;
    expect(globalThis.Response).toBe(before);
    expect((await exchange(info.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc')).status).toBe(200);
    await server.close();
  });
});

describe('what the style cannot honour is an OptionError', () => {
  const fetch = () => new Response('x');
  const app = helloApp();
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['serve(app, 3000)', () => serve(app, 3000 as never), /^port: goes in the options: serve\(app, \{ port: 3000 \}\)/],
    [
      'serve(app, "3000")',
      () => serve(app, '3000' as never),
      /^options: the second argument .* must be an object of options \(got "3000"\)/,
    ],
    ['serve(app, null)', () => serve(app, null as never), /^options:/],
    [
      'serve(handler, callback)',
      () => serve(fetch as never, () => {}),
      /^callback: serve\(app, callback\) takes an object with a fetch method/,
    ],
    [
      'serve(app, options, callback)',
      () => (serve as (...a: unknown[]) => Promise<unknown>)(app, {}, () => {}),
      /^callback: serve\(\) takes two arguments/,
    ],
    ['createServer', () => serve({ fetch, createServer } as never), /^createServer: waitstate is its own HTTP\/1\.1 server/],
    [
      'serverOptions',
      () => serve({ fetch, serverOptions: { maxHeaderSize: 1 } } as never),
      /^serverOptions: .*maxRequestHeaderSize for maxHeaderSize/,
    ],
    [
      'websocket',
      () => serve({ fetch, websocket: { server: {} } } as never),
      /^websocket: is a ws server for @hono\/node-server's own upgradeWebSocket.*waitstate upgrades with its upgradeWebSocket\(\)/,
    ],
    ['autoCleanupIncoming: false', () => serve({ fetch, autoCleanupIncoming: false } as never), /^autoCleanupIncoming: can only be true/],
    [
      'hostname and host',
      () => serve({ fetch, hostname: '127.0.0.1', host: '127.0.0.1' }),
      /^hostname: is @hono\/node-server's name for host/,
    ],
    ['hostname not a string', () => serve({ fetch, hostname: 1 } as never), /^hostname: must be a string/],
    ['an unknown key', () => serve({ fetch, bogus: 1 } as never), /^bogus: is not an option/],
    ['no fetch', () => serve({ port: 0 } as never), /^fetch: must be the app's fetch function/],
    ['fetch as a module reference', () => serve({ fetch: './app.mjs:app' } as never), /^fetch: .*serve\("\.\/app\.mjs:app", \{ threads: 4/],
    ['threads with a function', () => serve({ fetch, threads: 2, port: 0 }), /^threads: worker threads need the app as a module reference/],
    ['processes with a function', () => serve({ fetch, processes: 2, port: 0 }), /^processes: needs the app as a module reference/],
  ];
  it.each(cases)('%s', async (_name, call, message) => {
    const attempt = call();
    await expect(attempt).rejects.toThrow(OptionError);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe("waitstate's own calling style, unchanged", () => {
  it('serve(handler, options), serve(honoApp, options) and serve("MODULE:OBJECT", options) listen where the options say', async () => {
    const options = { listen: ['127.0.0.1:0'], logger: quietLogger };
    for (const app of [(request: Request) => helloApp().fetch(request), helloApp(), 'test/fixtures/apps.mjs:holder']) {
      const server = await serve(app, options);
      const port = server.addresses[0]!.port;
      expect(port).toBeGreaterThan(0);
      expect((await exchange(port, GET)).status).toBe(200);
      await server.close();
    }
  });
  it('a Bun-style app object with options: the object is the app, and keys of its own such as port are not options', async () => {
    const bunStyle = { port: 1, development: true, fetch: () => new Response('bun-style') };
    const server = await serve(bunStyle, { listen: ['127.0.0.1:0'], logger: quietLogger });
    const port = server.addresses[0]!.port;
    expect(port).not.toBe(1);
    expect((await exchange(port, GET)).body.toString()).toBe('bun-style');
    await server.close();
  });
});

describe('a start-up error when nobody awaits serve()', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const index = `${root}dist/src/index.js`;
  it('crashes the process with the error (an unhandled rejection), as an unhandled error event of a node server does', async () => {
    if (!existsSync(index)) throw new Error('dist/src/index.js is missing: run `npm run build` (npm test does it)');
    const script = `
      import { createServer } from 'node:net';
      import { serve } from ${JSON.stringify(index)};
      const busy = createServer();
      await new Promise((resolve) => busy.listen(0, '127.0.0.1', resolve));
      serve({ fetch: () => new Response('x'), port: busy.address().port, hostname: '127.0.0.1' }, () => console.log('listening'));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(output).toMatch(/EADDRINUSE/);
    expect(output).not.toMatch(/^listening/m);
  });
});
