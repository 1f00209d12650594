// bench/time-app.mjs: the app for bench/time.mjs (time and concurrency), as a Fetch handler for
// waitstate (`app`: imported inline, or by module reference `/abs/bench/time-app.mjs:app` in
// worker threads) and the same routes for node:http (`nodeHandler`). Routes:
//   GET /sleep?ms=N  awaits an N ms timer (at most 60 s), then answers 200 "slept N".
//   GET /sse         200 text/event-stream: "data: 1\n\n" after ~50 ms, then one event a second for
//                    SSE_SECONDS (5) seconds ("data: 2\n\n" ...), then the stream ends; a client that
//                    leaves stops the timer.
//   POST (any path)  reads the whole request body, answers 200 with its length in bytes.
//   GET (anything else)  200 "Hello".

import { setTimeout as sleep } from 'node:timers/promises';

export const HELLO = 'Hello';
export const SSE_SECONDS = 5;
export const SSE_FIRST_MS = 50;
const TEXT = { 'content-type': 'text/plain;charset=UTF-8' };
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

/** N of ?ms=N, bounded to 0..60000. */
const sleepMs = (url) => Math.min(60_000, Math.max(0, Number(new URL(url, 'http://a').searchParams.get('ms')) || 0));
const path = (url) => new URL(url, 'http://a').pathname;

/**
 * The event schedule of /sse: calls send(text) for event 1 after SSE_FIRST_MS, then once a second
 * for SSE_SECONDS seconds, then end(). Returns a function that stops it.
 */
function sseEvents(send, end) {
  let n = 0;
  let timer;
  const tick = () => {
    n++;
    send(`data: ${n}\n\n`);
    if (n > SSE_SECONDS) end();
    else timer = setTimeout(tick, 1000);
  };
  timer = setTimeout(tick, SSE_FIRST_MS);
  return () => clearTimeout(timer);
}

export async function app(request) {
  if (request.method === 'POST') {
    let n = 0;
    for await (const chunk of request.body) n += chunk.byteLength;
    return new Response(String(n), { headers: TEXT });
  }
  const route = path(request.url);
  if (route === '/sleep') {
    const ms = sleepMs(request.url);
    await sleep(ms);
    return new Response(`slept ${ms}`, { headers: TEXT });
  }
  if (route === '/sse') {
    const encoder = new TextEncoder();
    let stop = () => {};
    const body = new ReadableStream({
      start(controller) {
        stop = sseEvents(
          (text) => controller.enqueue(encoder.encode(text)),
          () => controller.close(),
        );
      },
      cancel() {
        stop();
      },
    });
    return new Response(body, { headers: SSE_HEADERS });
  }
  return new Response(HELLO, { headers: TEXT });
}

/** The same routes for node:http. */
export function nodeHandler(req, res) {
  const text = (body) => {
    res.writeHead(200, { ...TEXT, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  };
  if (req.method === 'POST') {
    let n = 0;
    req.on('data', (chunk) => (n += chunk.length));
    req.on('end', () => text(String(n)));
    return;
  }
  const route = path(req.url);
  if (route === '/sleep') {
    const ms = sleepMs(req.url);
    setTimeout(() => text(`slept ${ms}`), ms);
    return;
  }
  if (route === '/sse') {
    res.writeHead(200, SSE_HEADERS);
    const stop = sseEvents(
      (event) => res.write(event),
      () => res.end(),
    );
    res.on('close', stop);
    return;
  }
  text(HELLO);
}
