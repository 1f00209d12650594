// test/functional/echo-app.ts: an app that tells the client what it saw, for functional tests.
import type { ConnectionInfo } from '../../src/index.js';

export interface Echo {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
  info: ConnectionInfo;
}

export async function echoApp(request: Request, info: ConnectionInfo): Promise<Response> {
  const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
  const echo: Echo = { method: request.method, url: request.url, headers: [...request.headers], body, info };
  return new Response(JSON.stringify(echo), { headers: { 'content-type': 'application/json' } });
}

export function parseEcho(body: Buffer): Echo {
  return JSON.parse(body.toString('utf8')) as Echo;
}
