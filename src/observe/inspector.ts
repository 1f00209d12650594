// src/observe/inspector.ts: the `inspect` option. The server's machines run as real xstate actors and their
// inspection events (actor created, event received, snapshot) go either to a function the user
// gives, or to Stately's inspector through the stock @statelyai/inspect WebSocket inspector.
//
// For the WebSocket case we run the relay the inspector connects to ourselves, on loopback only:
// @statelyai/inspect's own createInspectorServer listens on every interface, which a debugging
// aid on a server must not. Like it, the relay serves at http://127.0.0.1:PORT a page that embeds
// https://stately.ai/inspect and passes it the events, and forwards every event to the other
// WebSocket clients (a browser tab, a test, another tool).
//
// @statelyai/inspect is an optional peer dependency (with superjson it weighs about 7 MB, for a
// debugging aid): it is imported here, when the relay starts, and never statically. ws is one of
// waitstate's dependencies (it frames WebSockets, src/websocket/).

import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { codeOf } from '../errors.js';
import { optionError, type InspectOption, type Spelling } from '../config/options.js';
import type { InspectionObserver } from '../runtime/machine.js';

export interface Inspector {
  readonly observer: InspectionObserver;
  /** The page to open in a browser to watch (the WebSocket relay), when there is one. */
  readonly url: string | undefined;
  close(): Promise<void>;
}

/** Events kept for a client that connects late (as Stately's relay does). */
const REPLAYED_EVENTS = 200;

const page = (port: number) => `<!DOCTYPE html>
<html><head><title>waitstate: Stately inspector</title>
<style>html,body,iframe{margin:0;width:100%;height:100%;border:0}</style></head>
<body><iframe id="inspector" src="https://stately.ai/inspect"></iframe>
<script>
  const frame = document.getElementById('inspector');
  const waiting = [];
  let ready = false;
  addEventListener('message', (e) => {
    if (e.data && e.data.type === '@statelyai.connected') {
      ready = true;
      for (const event of waiting.splice(0)) frame.contentWindow.postMessage(event, '*');
    }
  });
  new WebSocket('ws://127.0.0.1:${port}').onmessage = (m) => {
    const event = JSON.parse(m.data);
    if (ready) frame.contentWindow.postMessage(event, '*');
    else waiting.push(event);
  };
</script></body></html>`;

type StatelyInspect = typeof import('@statelyai/inspect');

async function loadStatelyInspect(spelling: Spelling): Promise<StatelyInspect> {
  try {
    return await import('@statelyai/inspect');
  } catch (error) {
    if (codeOf(error) !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw optionError(spelling, 'inspect', 'needs the optional package @statelyai/inspect: npm i @statelyai/inspect');
  }
}

async function startRelay(port: number, spelling: Spelling): Promise<{ port: number; stop(): Promise<void> }> {
  const http = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page((http.address() as { port: number }).port));
  });
  const sockets = new WebSocketServer({ server: http });
  // ws repeats the HTTP server's errors (a port in use) on itself; they are handled below, on the server.
  sockets.on('error', () => {});
  const replay: string[] = [];
  sockets.on('connection', (client) => {
    for (const message of replay) client.send(message);
    client.on('message', (data) => {
      const message = data.toString();
      replay.push(message);
      if (replay.length > REPLAYED_EVENTS) replay.shift();
      for (const other of sockets.clients) if (other !== client && other.readyState === WebSocket.OPEN) other.send(message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (error) => reject(optionError(spelling, 'inspect', `cannot listen on 127.0.0.1:${port}: ${error.message}`)));
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (http.address() as { port: number }).port;
  return {
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        http.close(() => resolve());
      }),
  };
}

/** Machine contexts hold their shell (a Channel, a Task, …): the inspector gets its class name. */
function sanitizeContext(context: Record<string, unknown>): Record<string, unknown> {
  const shell = context['shell'];
  return { ...context, shell: shell !== null && typeof shell === 'object' ? shell.constructor.name : shell };
}

export async function startInspector(option: InspectOption, spelling: Spelling): Promise<Inspector | undefined> {
  if (option === false) return undefined;
  if (typeof option === 'function') return { observer: option, url: undefined, close: async () => {} };
  const statelyInspect = await loadStatelyInspect(spelling);
  const relay = await startRelay(option, spelling);
  const inspector = statelyInspect.createWebSocketInspector({ url: `ws://127.0.0.1:${relay.port}`, sanitizeContext });
  return {
    observer: inspector.inspect,
    url: `http://127.0.0.1:${relay.port}`,
    async close() {
      inspector.stop();
      await relay.stop();
    },
  };
}
