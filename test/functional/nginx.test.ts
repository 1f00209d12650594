// waitstate behind a real nginx (the Debian package), started here on loopback with the config
// docs/usage.md shows, examples/deploy/nginx.conf, moved to a free port and a throwaway
// certificate: TLS terminated by nginx, X-Forwarded-* set the way nginx deployments set them.
// The app must see the client's scheme, host and port in request.url and the client's address in
// info, and a client cannot pass itself off as someone else with its own X-Forwarded-For. A
// WebSocket opens through it, and ordinary requests still reuse nginx's connections to waitstate.
// .ci/run installs nginx and openssl, so CI always runs this; without them it is skipped, saying why.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerHandle } from '../../src/index.js';
import { serve, upgradeWebSocket } from '../../src/index.js';
import { selfSignedCertificate } from '../helpers/certificates.js';
import { freePort, quietLogger } from '../helpers/raw-client.js';
import { findTool, NGINX, OPENSSL, TESTS_NEEDING_TOOLS, titleSayingWhy } from '../helpers/tools.js';
import { echoApp, type Echo } from './echo-app.js';

const nginx = findTool(NGINX);
const openssl = findTool(OPENSSL);
const title = titleSayingWhy('behind nginx', TESTS_NEEDING_TOOLS['test/functional/nginx.test.ts']!);

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The nginx config docs/usage.md shows; this test runs it as it is but for addresses and certificate. */
const DEPLOY_CONF = 'examples/deploy/nginx.conf';

/** `conf` with each `[from, to]` replaced; `from` must occur exactly once, so that the file cannot drift from what is tested. */
function localised(conf: string, replacements: ReadonlyArray<readonly [string, string]>): string {
  return replacements.reduce((text, [from, to]) => {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`${DEPLOY_CONF} has ${count} \`${from}\` (1 expected): update test/functional/nginx.test.ts with it`);
    return text.replace(from, to);
  }, conf);
}

async function untilListening(port: number, child: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${readFileSync(log, 'utf8')}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('nginx did not start listening within 5 s');
}

/** A request over TLS to nginx, sent from 127.0.0.2 so that the client and nginx differ in address. */
function viaNginx(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; echo: Echo }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, headers, localAddress: '127.0.0.2', rejectUnauthorized: false, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, echo: JSON.parse(body) as Echo }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(nginx === undefined || openssl === undefined)(title, () => {
  const dir = mkdtempSync(join(tmpdir(), 'waitstate-nginx-'));
  let server: ServerHandle;
  let proxy: ChildProcess;
  let tlsPort = 0;

  beforeAll(async () => {
    // The echo app, and on /ws a WebSocket that says where the client is, then echoes.
    const app = (request: Request, info: Parameters<typeof echoApp>[1]) => {
      if (new URL(request.url).pathname !== '/ws') return echoApp(request, info);
      const { socket, response } = upgradeWebSocket(request);
      socket.onopen = () => socket.send(`${socket.url} ${info.remoteAddress}`);
      socket.onmessage = (event) => socket.send((event as MessageEvent).data as string);
      return response;
    };
    server = await serve(app, {
      listen: ['127.0.0.1:0'],
      trustedProxy: '127.0.0.1',
      trustedProxyHeaders: ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port'],
      logger: quietLogger,
    });
    const { certPath, keyPath } = selfSignedCertificate(openssl!, dir, 'shop', { cn: 'shop.test' });
    tlsPort = await freePort();
    for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp));
    const site = localised(readFileSync(join(root, DEPLOY_CONF), 'utf8'), [
      ['server 127.0.0.1:8080;', `server 127.0.0.1:${server.addresses[0]!.port};`],
      ['listen 443 ssl;', `listen 127.0.0.1:${tlsPort} ssl;`],
      ['ssl_certificate /etc/ssl/certs/shop.example.pem;', `ssl_certificate ${certPath};`],
      ['ssl_certificate_key /etc/ssl/private/shop.example.key;', `ssl_certificate_key ${keyPath};`],
    ]);
    // What a packaged nginx has in nginx.conf around the site's file, kept in the temp directory.
    const conf = `
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${site}
}
`;
    writeFileSync(join(dir, 'nginx.conf'), conf);
    proxy = spawn(
      nginx!,
      ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', 'daemon off; master_process off;'],
      {
        stdio: 'ignore',
      },
    );
    await untilListening(tlsPort, proxy, join(dir, 'error.log'));
  });

  afterAll(async () => {
    if (proxy !== undefined && proxy.exitCode === null) {
      const exited = new Promise((resolve) => proxy.once('exit', resolve));
      proxy.kill('SIGTERM');
      await exited;
    }
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the app sees the client's scheme, host, port and address", async () => {
    const { status, echo } = await viaNginx(tlsPort, '/shop/cart?item=7', { Host: `shop.test:${tlsPort}` });
    expect(status).toBe(200);
    expect(echo.url).toBe(`https://shop.test:${tlsPort}/shop/cart?item=7`);
    expect(echo.info).toMatchObject({ remoteAddress: '127.0.0.2', urlScheme: 'https', serverName: 'shop.test', serverPort: tlsPort });
  });

  it('a WebSocket opens through nginx, the app seeing the client as for any request', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${tlsPort}/ws`, {
      rejectUnauthorized: false,
      localAddress: '127.0.0.2',
      headers: { Host: 'shop.test' },
    });
    const messages: string[] = [];
    ws.on('message', (data: Buffer) => messages.push(data.toString()));
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    ws.send('through nginx');
    for (let i = 0; i < 100 && messages.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(messages).toEqual([`wss://shop.test:${tlsPort}/ws 127.0.0.2`, 'through nginx']);
    ws.close(4000);
    await new Promise((resolve) => ws.on('close', resolve));
    // An ordinary request after it still gets through, on a connection without Upgrade.
    expect((await viaNginx(tlsPort, '/after', { Host: 'shop.test' })).status).toBe(200);
  });

  it('a client cannot choose its address with its own X-Forwarded-For', async () => {
    const { echo } = await viaNginx(tlsPort, '/', { Host: 'shop.test', 'X-Forwarded-For': '6.6.6.6' });
    expect(echo.info.remoteAddress).toBe('127.0.0.2');
    // nginx appended the real client; the app sees only the hop it may believe.
    expect(echo.headers.find(([name]) => name === 'x-forwarded-for')?.[1]).toBe('127.0.0.2');
  });
});
