// bench/stream-app.mjs: the app for the "1 GiB upload / download, peak RSS" scenario of
// bench/workers.mjs (waitstate, inline). Routes:
//   POST (any path)  reads the request body as a stream (`for await (const c of request.body)`),
//                    counts the bytes, answers 200 with the count as text.
//   GET /download    STREAM_BYTES (default 1 GiB) of zeros as a ReadableStream that allocates and
//                    enqueues one 64 KiB Uint8Array per pull(); Content-Length is set.
//   GET /file        fileResponse(BENCH_FILE): the sparse temp file bench/workers.mjs creates.
// The node:http equivalent lives in bench/workers-server.mjs (kind node-stream).

import { fileResponse } from '../dist/src/index.js';

export const CHUNK = 64 * 1024;
export const TOTAL = Number(process.env.STREAM_BYTES) > 0 ? Number(process.env.STREAM_BYTES) : 2 ** 30;

export async function app(request) {
  if (request.method === 'POST') {
    let n = 0;
    for await (const chunk of request.body) n += chunk.byteLength;
    return new Response(String(n));
  }
  if (request.url.endsWith('/download')) {
    let sent = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (sent >= TOTAL) {
          controller.close();
          return;
        }
        const n = Math.min(CHUNK, TOTAL - sent);
        sent += n;
        controller.enqueue(new Uint8Array(n));
      },
    });
    return new Response(body, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) } });
  }
  if (request.url.endsWith('/file')) {
    return fileResponse(process.env.BENCH_FILE, { headers: { 'content-type': 'application/octet-stream' } });
  }
  return new Response('stream-app: POST to upload, GET /download or /file', { status: 404 });
}
